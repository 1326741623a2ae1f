// commands.h — the r1 subcommands. Each takes argv with argv[0] = the subcommand's name,
// writes results to stdout and errors to stderr, and returns the process exit status.
#pragma once

namespace r1::cli {

int RunInfo(int argc, char** argv);
int RunLogits(int argc, char** argv);
int RunGenerate(int argc, char** argv);
int RunRun(int argc, char** argv);
int RunChat(int argc, char** argv);
int RunTokenize(int argc, char** argv);
int RunDetokenize(int argc, char** argv);
int RunTemplate(int argc, char** argv);
int RunBench(int argc, char** argv);
int RunQuantize(int argc, char** argv);
int RunSplit(int argc, char** argv);
int RunMkModel(int argc, char** argv);
int RunPerplexity(int argc, char** argv);
int RunImatrix(int argc, char** argv);
int RunGpus(int argc, char** argv);
// Only in builds with cpp-httplib (R1_CLI_HAVE_SERVE).
int RunServe(int argc, char** argv);

}  // namespace r1::cli
