// r1 serve MODEL — an OpenAI-compatible HTTP server over the session API (doc/serving.md).
//
// The socket is opened before the model loads, so /health answers 503 until it is ready. Each
// of --parallel slots is a Session with its own KV cache (serve/slot_pool.h); the slots'
// generations run together in one engine that decodes all of them in one forward pass per token
// and interleaves prompt chunks (serve/batch_engine.h). HTTP threads parse, check and queue
// requests, then relay what the slot generates. A client that goes away mid-stream cancels its
// generation at the next round.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/strings/str_format.h"
#include "cli_args.h"
#include "cli_session.h"
#include "command_table.h"
#include "commands.h"
#include "r1/generation.h"
#include "r1/tokenizer.h"
#include "serve/api_error.h"
#include "serve/api_key.h"
#include "serve/batch_engine.h"
#include "serve/generation_channel.h"
#include "serve/metrics.h"
#include "serve/openai_request.h"
#include "serve/openai_response.h"
#include "serve/slot_pool.h"

namespace r1::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct ServeConfig {
  std::string host = "127.0.0.1";
  int port = 8080;
  int parallel = 1;
  int queue = 0;               // waiting requests beyond the busy slots
  int64_t max_tokens_cap = 0;  // 0: none besides the context
  std::chrono::seconds timeout{600};      // a whole request, queueing included
  std::chrono::seconds read_timeout{15};  // each read or write on a socket
  size_t max_body_bytes = size_t{8} << 20;
  std::string api_key;
  std::string model_id;
  serve::RequestLimits limits;
};

// The model and its slots, once loaded.
struct Backend {
  std::shared_ptr<const Model> model;
  std::vector<std::unique_ptr<Session>> sessions;
  GenerateOptions base;  // template choice from the command line
  bool chat_template = false;
  int64_t n_ctx = 0;
  std::unique_ptr<serve::BatchEngine> engine;  // before the pool: the pool's workers wait on it
  std::unique_ptr<serve::SlotPool> pool;
};

// A request's seed when it names none.
uint64_t RandomSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

std::string RandomId(const char* prefix) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::random_device device;
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += kDigits[device() % 36];
  return id;
}

std::string ModelId(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  if (base.size() > 5 && base.ends_with(".gguf")) base.resize(base.size() - 5);
  return base;
}

void Reply(httplib::Response& res, const serve::ApiError& error) {
  res.status = error.http_status;
  res.set_content(serve::ErrorBody(error), "application/json");
}

serve::ApiError TimedOut() {
  return {503, "server_error", "timeout", "The request waited longer than the server's time limit.", ""};
}

// The error of a generation that did not run: dropped from the queue past its time limit
// (DeadlineExceeded), by a stopping server (Unavailable), or cancelled before it started
// (Cancelled: its time ran out or its client left). Anything else is the session's own error.
serve::ApiError NotRunOr(const Status& status) {
  if (absl::IsDeadlineExceeded(status) || absl::IsCancelled(status)) return TimedOut();
  if (absl::IsUnavailable(status)) return {503, "server_error", "unavailable", std::string(status.message()), ""};
  return serve::FromStatus(status);
}

// SIGINT/SIGTERM stop the server; the handler only sets a flag that the main thread polls.
volatile std::sig_atomic_t g_stop = 0;
extern "C" void OnStopSignal(int) { g_stop = 1; }

class Server {
 public:
  explicit Server(ServeConfig config)
      : config_(std::move(config)),
        started_(std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count()) {}

  // Binds the socket and starts answering (503 until SetBackend); the bound port, or an error.
  StatusOr<int> Start();
  void SetBackend(std::unique_ptr<Backend> backend) {
    backend_owner_ = std::move(backend);
    backend_.store(backend_owner_.get(), std::memory_order_release);
  }
  void Stop();

 private:
  void Route();
  void HandleCompletion(const httplib::Request& req, httplib::Response& res, bool chat);
  void Stream(httplib::Response& res, std::shared_ptr<serve::SlotPool::Job> job,
              std::shared_ptr<serve::GenerationChannel> channel, serve::ResponseInfo info, bool include_usage,
              Clock::time_point deadline);
  void CountGeneration(const GenerateResult& r) {
    metrics_.CountGeneration(r);
  }

  const ServeConfig config_;
  const int64_t started_;  // Unix seconds, the model's "created" in /v1/models
  httplib::Server http_;
  std::thread listener_;
  std::atomic<bool> listener_done_{false};
  std::unique_ptr<Backend> backend_owner_;
  std::atomic<Backend*> backend_{nullptr};
  serve::Metrics metrics_;
};

StatusOr<int> Server::Start() {
  // Connections beyond these threads wait in httplib's own queue; enough threads for every slot,
  // every queued request and a few probes and scrapes besides.
  const size_t n_threads = static_cast<size_t>(config_.parallel + config_.queue + 4);
  http_.new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
  http_.set_read_timeout(config_.read_timeout);
  http_.set_write_timeout(config_.read_timeout);
  http_.set_keep_alive_timeout(5);
  http_.set_payload_max_length(config_.max_body_bytes);
  Route();
  const int port = config_.port == 0 ? http_.bind_to_any_port(config_.host)
                                     : (http_.bind_to_port(config_.host, config_.port) ? config_.port : -1);
  if (port < 0) {
    return absl::UnavailableError(absl::StrFormat("cannot listen on %s:%d", config_.host, config_.port));
  }
  listener_ = std::thread([this] {
    http_.listen_after_bind();
    listener_done_ = true;
  });
  // httplib's stop() does nothing before the loop runs, so a load that fails at once could
  // not stop the server otherwise.
  while (!http_.is_running() && !listener_done_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void Server::Stop() {
  // Ends running generations first, so that handlers waiting on them return and httplib can
  // join its threads.
  if (Backend* b = backend_.load()) b->pool->Stop();
  http_.stop();
  if (listener_.joinable()) listener_.join();
}

void Server::Route() {
  http_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics_.CountRequest(req.path, res.status);
  });
  // Status codes httplib sets itself (404 unknown path, 413 body too large, 400 malformed)
  // get OpenAI-shaped bodies too; handlers' own errors already have one.
  http_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) return Reply(res, serve::NotFound(req.path));
    if (res.status == 413) return Reply(res, serve::PayloadTooLarge(config_.max_body_bytes));
    const bool client_error = res.status < 500;
    Reply(res, {res.status, client_error ? "invalid_request_error" : "server_error", "",
                client_error ? "The HTTP request could not be read." : "The server failed to answer.", ""});
  });
  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    using R = httplib::Server::HandlerResponse;
    if (req.path == "/health") return R::Unhandled;
    if (!config_.api_key.empty() && !serve::ApiKeyMatches(req.get_header_value("Authorization"), config_.api_key)) {
      Reply(res, serve::Unauthorized());
      return R::Handled;
    }
    if (req.path.starts_with("/v1/") && backend_.load(std::memory_order_acquire) == nullptr) {
      Reply(res, serve::Loading());
      return R::Handled;
    }
    return R::Unhandled;
  });

  http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const bool ready = backend_.load(std::memory_order_acquire) != nullptr;
    res.status = ready ? 200 : 503;
    res.set_content(ready ? R"({"status":"ok"})" : R"({"status":"loading"})", "application/json");
  });
  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    serve::Metrics::Gauges g;
    if (const Backend* b = backend_.load(std::memory_order_acquire)) {
      g = {b->pool->queue_depth(), b->pool->busy_slots(), b->pool->n_slots(), b->engine->rounds(),
           b->engine->widest_round()};
    }
    res.set_content(metrics_.Render(g), "text/plain; version=0.0.4");
  });
  http_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(serve::ModelsJson(config_.model_id, started_), "application/json");
  });
  http_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    HandleCompletion(req, res, /*chat=*/true);
  });
  http_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    HandleCompletion(req, res, /*chat=*/false);
  });
}

void Server::HandleCompletion(const httplib::Request& req, httplib::Response& res, bool chat) {
  const Clock::time_point deadline = Clock::now() + config_.timeout;
  Backend& b = *backend_.load(std::memory_order_acquire);  // the pre-routing handler checked it
  serve::ParsedRequest parsed =
      chat ? serve::ParseChatRequest(req.body, config_.limits) : serve::ParseCompletionRequest(req.body, config_.limits);
  if (const auto* error = std::get_if<serve::ApiError>(&parsed)) return Reply(res, *error);
  auto request = std::make_shared<const serve::CompletionRequest>(std::get<serve::CompletionRequest>(std::move(parsed)));
  if (chat && !b.chat_template) {
    return Reply(res, serve::InvalidRequest("the model has no chat template: use /v1/completions, or start the "
                                            "server with --template or --template-file"));
  }
  GenerateOptions options = serve::ToGenerateOptions(*request, b.base, config_.max_tokens_cap);
  if (!request->seed) options.sampler.seed = RandomSeed();

  StatusOr<std::vector<int32_t>> tokens = chat ? ChatPromptTokens(*b.model, request->messages, options)
                                               : RawPromptTokens(*b.model, request->prompt);
  if (!tokens.ok()) return Reply(res, serve::FromStatus(tokens.status()));
  if (tokens->empty()) return Reply(res, serve::InvalidRequest("the prompt is empty"));
  if (static_cast<int64_t>(tokens->size()) > b.n_ctx) {
    return Reply(res, serve::ContextLengthExceeded(absl::StrFormat(
                          "The prompt has %d tokens but a slot's context holds %d.", tokens->size(), b.n_ctx)));
  }
  auto prompt = std::make_shared<const std::vector<int32_t>>(std::move(*tokens));

  auto channel = std::make_shared<serve::GenerationChannel>();
  const bool stream = request->stream;
  // Set by the slot's worker, handed to the channel once the slot is free again.
  auto outcome = std::make_shared<StatusOr<GenerateResult>>(absl::CancelledError("cancelled before it started"));
  auto run = [&b, channel, prompt, options, stream, deadline, outcome](int slot, const serve::SlotPool::Job& job) {
    Session& session = *b.sessions[slot];
    // Cancel() before the generation starts is forgotten by it; the callback checks the job too.
    const StreamCallback on_piece = [&](const StreamPiece& piece) {
      if (job.cancelled() || Clock::now() > deadline) return false;
      if (stream) channel->Push(piece.channel, piece.text);
      return true;
    };
    if (job.cancelled()) return;
    auto generation = Generation::Start(session, *prompt, options, on_piece);
    if (!generation.ok()) {
      *outcome = generation.status();
      return;
    }
    *outcome = b.engine->Run(session, **generation, job.cancel_flag());
  };
  auto finished = [channel, outcome, deadline](bool ran) {
    if (ran) return channel->Finish(std::move(*outcome));
    channel->Finish(Clock::now() > deadline ? absl::DeadlineExceededError("past the time limit")
                                            : absl::UnavailableError("The server is stopping."));
  };
  std::shared_ptr<serve::SlotPool::Job> job = b.pool->Submit(*prompt, std::move(run), std::move(finished));
  if (job == nullptr) return Reply(res, serve::QueueFull());

  serve::ResponseInfo info{RandomId(chat ? "chatcmpl-" : "cmpl-"),
                           std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count(),
                           config_.model_id, chat};
  if (stream) return Stream(res, std::move(job), std::move(channel), std::move(info), request->include_usage, deadline);

  // Not streamed: nothing is written until the end, so a vanished client is only noticed when
  // the answer is sent; the time limit bounds what it can cost.
  std::vector<serve::GenerationChannel::Piece> unused;
  while (!channel->Wait(std::chrono::milliseconds(200), &unused)) {
    if (Clock::now() > deadline) b.pool->Cancel(*job);
  }
  const StatusOr<GenerateResult>& result = channel->result();
  if (!result.ok()) {
    return Reply(res, NotRunOr(result.status()));
  }
  CountGeneration(*result);
  res.set_content(serve::CompletionJson(info, *result), "application/json");
}

void Server::Stream(httplib::Response& res, std::shared_ptr<serve::SlotPool::Job> job,
                    std::shared_ptr<serve::GenerationChannel> channel, serve::ResponseInfo info, bool include_usage,
                    Clock::time_point deadline) {
  serve::SlotPool& pool = *backend_.load()->pool;
  struct State {
    bool started = false;
    Clock::time_point last_write = Clock::now();
  };
  auto state = std::make_shared<State>();
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, &pool, job, channel, info, include_usage, deadline, state](size_t, httplib::DataSink& sink) {
        const auto send = [&](std::string_view event) {
          state->last_write = Clock::now();
          return sink.write(event.data(), event.size());
        };
        // A failed write means the client is gone: stop its generation now.
        const auto gone = [&] {
          pool.Cancel(*job);
          return false;
        };
        if (!state->started) {
          state->started = true;
          if (info.chat && !send(serve::SseEvent(serve::RoleChunkJson(info)))) return gone();
        }
        std::vector<serve::GenerationChannel::Piece> pieces;
        const bool finished = channel->Wait(std::chrono::milliseconds(200), &pieces);
        for (const auto& p : pieces) {
          if (!send(serve::SseEvent(serve::PieceChunkJson(info, p.channel, p.text)))) return gone();
        }
        if (!finished) {
          if (Clock::now() > deadline) pool.Cancel(*job);
          // A comment line now and then finds a vanished client while nothing is generated
          // (a long prompt being computed).
          if (Clock::now() - state->last_write > std::chrono::seconds(2) && !send(":\n\n")) return gone();
          return true;
        }
        const StatusOr<GenerateResult>& result = channel->result();
        if (!result.ok()) {
          // Headers are sent: the error travels as an event, as OpenAI's streams do.
          if (!send(serve::SseEvent(serve::ErrorBody(NotRunOr(result.status()))))) return gone();
        } else {
          CountGeneration(*result);
          if (!send(serve::SseEvent(serve::FinishChunkJson(info, *result)))) return gone();
          if (include_usage && !send(serve::SseEvent(serve::UsageChunkJson(info, *result)))) return gone();
        }
        if (!send(serve::kSseDone)) return gone();
        sink.done();
        return true;
      },
      // Whatever ended the response (a write error, a timeout, the server stopping), the
      // generation must not outlive it.
      [&pool, job](bool) { pool.Cancel(*job); });
}

StatusOr<ServeConfig> ParseServeConfig(const Args& args) {
  ServeConfig c;
  if (auto host = args.Value("--host")) c.host = *host;
  int64_t v = c.port;
  R1_RETURN_IF_ERROR(args.Int("--port", 0, 65535, &v));
  c.port = static_cast<int>(v);
  v = c.parallel;
  R1_RETURN_IF_ERROR(args.Int("--parallel", 1, 256, &v));
  c.parallel = static_cast<int>(v);
  v = 4 * c.parallel;
  R1_RETURN_IF_ERROR(args.Int("--queue", 0, 4096, &v));
  c.queue = static_cast<int>(v);
  R1_RETURN_IF_ERROR(args.Int("--max-tokens-cap", 0, int64_t{1} << 30, &c.max_tokens_cap));
  v = c.timeout.count();
  R1_RETURN_IF_ERROR(args.Int("--timeout", 1, 86400, &v));
  c.timeout = std::chrono::seconds(v);
  // Reading a request never needs longer than the whole request may take.
  v = std::min<int64_t>(c.read_timeout.count(), c.timeout.count());
  R1_RETURN_IF_ERROR(args.Int("--read-timeout", 1, 3600, &v));
  c.read_timeout = std::chrono::seconds(v);
  v = static_cast<int64_t>(c.max_body_bytes);
  R1_RETURN_IF_ERROR(args.Int("--max-body", 1024, int64_t{1} << 30, &v));
  c.max_body_bytes = static_cast<size_t>(v);
  v = static_cast<int64_t>(c.limits.max_messages);
  R1_RETURN_IF_ERROR(args.Int("--max-messages", 1, 1 << 20, &v));
  c.limits.max_messages = static_cast<size_t>(v);
  if (auto key = args.Value("--api-key")) {
    c.api_key = *key;
  } else if (const char* env = std::getenv("R1_API_KEY"); env != nullptr) {
    c.api_key = env;
  }
  c.model_id = args.Value("--alias").value_or(ModelId(args.positional()[0]));
  return c;
}

// Loads the model and opens one session per slot, the worker threads split among them.
StatusOr<std::unique_ptr<Backend>> LoadBackend(const Args& args, const ServeConfig& config) {
  R1_ASSIGN_OR_RETURN(SessionOptions session_options, ParseSessionOptions(args));
  // The table names --ctx-per-slot first (--ctx is its alias), so it is stored under that name.
  R1_RETURN_IF_ERROR(args.Int("--ctx-per-slot", 1, int64_t{1} << 24, &session_options.n_ctx));
  R1_ASSIGN_OR_RETURN(GenerateOptions base, ParseGenerateOptions(args));
  auto b = std::make_unique<Backend>();
  LoadOptions load = ParseLoadOptions(args);
  load.interleave_rows = !args.Has("--no-interleave");
  R1_ASSIGN_OR_RETURN(b->model, Model::Load(args.positional()[0], load));
  // One engine thread runs every slot's work, one pass at a time, so each session gets all the
  // worker threads; the pools of the slots not in use sleep.
  session_options.n_threads = session_options.n_threads > 0 ? session_options.n_threads : b->model->default_threads();
  // Each slot drafts with its own session of the one draft model, or its own cache of the
  // model's nextn block (the engine uses it while that slot decodes alone).
  R1_ASSIGN_OR_RETURN(DraftChoice draft, ParseDraft(args, load));
  for (int i = 0; i < config.parallel; ++i) {
    R1_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(b->model, session_options));
    R1_RETURN_IF_ERROR(ApplyDraft(draft, *session));
    b->sessions.push_back(std::move(session));
  }
  b->n_ctx = b->sessions[0]->n_ctx();
  b->base = std::move(base);
  const Tokenizer* tok = b->model->tokenizer();
  if (tok == nullptr) return absl::FailedPreconditionError("the model has no tokenizer");
  b->chat_template = b->base.chat_template || !b->base.chat_template_source.empty() || !tok->chat_template().empty();
  Backend* raw = b.get();
  serve::SlotPool::Hooks hooks{
      [raw](int slot, absl::Span<const int32_t> prompt) {
        return serve::SharedPrefix(raw->sessions[slot]->tokens(), prompt);
      },
      [raw](int slot) { raw->sessions[slot]->Cancel(); }};
  b->engine = std::make_unique<serve::BatchEngine>();
  b->pool = std::make_unique<serve::SlotPool>(config.parallel, config.queue, std::move(hooks));
  std::fprintf(stderr, "r1 serve: %s, %d slot(s) of %lld tokens batched on %d thread(s), KV cache %.1f MiB per slot%s\n",
               config.model_id.c_str(), config.parallel, static_cast<long long>(b->n_ctx), session_options.n_threads,
               static_cast<double>(b->sessions[0]->kv_bytes_per_token()) * static_cast<double>(b->n_ctx) / (1 << 20),
               draft.nextn ? ", drafting with the model's nextn block" : draft.model != nullptr ? ", with a draft model" : "");
  return b;
}

}  // namespace

int RunServe(int argc, char** argv) {
  const Args args(argc, argv, *FindCommand("serve"));
  if (!args.error().empty()) return Usage("serve", args.error());
  if (args.positional().size() != 1) return Usage("serve", "expected one MODEL path");
  const auto config = ParseServeConfig(args);
  if (!config.ok()) return Usage("serve", config.status());
  // Check the flags before the socket is opened; the model is loaded afterwards.
  if (const auto o = ParseSessionOptions(args); !o.ok()) return Usage("serve", o.status());
  if (const auto o = ParseGenerateOptions(args); !o.ok()) return Usage("serve", o.status());
  if (args.Has("--draft") && args.Has("--draft-nextn")) return Usage("serve", "--draft and --draft-nextn exclude each other");
  if (args.Has("--draft-max") && !args.Has("--draft") && !args.Has("--draft-nextn")) {
    return Usage("serve", "--draft-max needs --draft MODEL or --draft-nextn");
  }
  if (int64_t n = 0; args.Has("--draft-max")) {
    if (const Status s = args.Int("--draft-max", 1, kMaxDraftTokens, &n); !s.ok()) return Usage("serve", s);
  }

  // A client closing its socket must not kill the server with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  Server server(*config);
  const StatusOr<int> port = server.Start();
  if (!port.ok()) return Fail("serve", port.status());
  std::fprintf(stderr, "r1 serve: listening on http://%s:%d\n", config->host.c_str(), *port);
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);

  auto backend = LoadBackend(args, *config);
  if (!backend.ok()) {
    server.Stop();
    return Fail("serve", backend.status());
  }
  server.SetBackend(std::move(*backend));
  std::fprintf(stderr, "r1 serve: ready\n");
  while (g_stop == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "r1 serve: stopping\n");
  server.Stop();
  return 0;
}

}  // namespace r1::cli
