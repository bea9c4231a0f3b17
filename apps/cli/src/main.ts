import { runCli } from './cli';

// Ctrl-C aborts in-flight requests and ends --watch / --wait loops cleanly; a second Ctrl-C
// finds no listener and kills the process the usual way.
const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort());

void runCli(
  process.argv,
  {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    progressStream: process.stderr,
  },
  process.env,
  interrupt.signal,
).then((code) => {
  // Leave an exit code a command set itself (placement does) unless this one is an error.
  if (code !== 0) process.exitCode = code;
});
