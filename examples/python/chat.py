#!/usr/bin/env python3
"""Streaming chat with r1: the reasoning (inside <think>...</think>) dimmed, the answer plain.

    python3 chat.py MODEL.gguf                  # interactive; an empty line quits
    python3 chat.py MODEL.gguf -p "Why is the sky blue?"

Ctrl-C during an answer stops it and returns to the prompt; Ctrl-C at the prompt quits.
A model without a chat template r1 knows (a plain language model) continues each line as text
instead, unless --template names one.
"""
import argparse
import sys

import r1


def styles(enabled):
    if not enabled:
        return {"reasoning": ("[thinking] ", ""), "content": ("", "")}
    # ANSI: dim italic for the chain of thought, normal text for the answer.
    return {"reasoning": ("\x1b[2;3m", "\x1b[0m"), "content": ("", "")}


def can_chat(model, template):
    """Whether the model (or the --template given) formats conversations."""
    try:
        model.format_chat([{"role": "user", "content": "hi"}], chat_template=template)
        return True
    except r1.NoChatTemplate:
        return False


def answer(start, style):
    """Streams one answer from start() (a new r1.Stream) and returns its result."""
    current = None
    with start() as stream:
        try:
            for event in stream:
                kind = "reasoning" if event.channel == r1.Channel.REASONING else "content"
                if kind != current:
                    if current is not None:
                        sys.stdout.write(style[current][1] + "\n")
                    sys.stdout.write(style[kind][0])
                    current = kind
                sys.stdout.write(event.text)
                sys.stdout.flush()
        except KeyboardInterrupt:
            sys.stdout.write(" [stopped]")
        if current is not None:
            sys.stdout.write(style[current][1])
        sys.stdout.write("\n")
    result = stream.result
    print(f"({result.n_generated_tokens} tokens, {result.decode_tokens_per_second:.1f} tok/s, "
          f"{result.stop_reason.name.lower()})", file=sys.stderr)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("-p", "--prompt", action="append", help="a user message (repeatable); else read stdin")
    parser.add_argument("--template", help="built-in chat template instead of the model's (chatml, ...)")
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--system", help="system prompt")
    parser.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    args = parser.parse_args()

    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    style = styles(color)
    try:
        model = r1.Model(args.model)
        session = r1.Session(model)
        chat = can_chat(model, args.template)
    except r1.Error as e:
        sys.exit(f"chat.py: {e}")
    if not chat:
        print("chat.py: the model has no chat template r1 knows; continuing each line as plain text "
              "(--template chatml makes it chat)", file=sys.stderr)
    messages = [{"role": "system", "content": args.system}] if args.system else []
    sampling = dict(max_new_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed)

    def lines():
        if args.prompt:
            yield from args.prompt
            return
        while True:
            try:
                line = input("> ")
            except (EOFError, KeyboardInterrupt):
                return
            if not line:
                return
            yield line

    try:
        for line in lines():
            if not chat:
                answer(lambda: session.generate(line, **sampling), style)
                continue
            messages.append({"role": "user", "content": line})
            result = answer(lambda: session.chat(messages, chat_template=args.template, **sampling), style)
            # Earlier answers go back without their reasoning, as the R1 templates expect.
            messages.append({"role": "assistant", "content": result.content})
    except r1.Error as e:
        sys.exit(f"chat.py: {e}")


if __name__ == "__main__":
    main()
