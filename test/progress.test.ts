// The CLI's progress line (src/cli/progress.ts): on a terminal only, after a second or at once for a big file,
// one line rewritten per phase and cleared before the report.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startProgress } from "../src/cli/progress.ts";

function terminal(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

test("nothing within a second; then the phase under way, cleared at the end", () => {
  let clock = 0;
  const tty = terminal(true);
  const p = startProgress(tty, () => clock);
  p.phase("loading x.cpuprofile");
  clock = 400;
  p.phase("rendering 10 samples");
  p.done();
  assert.equal(tty.written, [], "a quick report says nothing");
  const slow = startProgress(tty, () => clock);
  clock = 1600;
  slow.phase("rendering 2000000 samples");
  slow.done();
  assert.equal(tty.written, ["\r\x1b[2Ktsprofile: rendering 2000000 samples...", "\r\x1b[2K"]);
});

test("a big file is said at once; nothing at all when stderr is not a terminal", () => {
  const tty = terminal(true);
  const p = startProgress(tty, () => 0);
  p.phase("loading big.cpuprofile", true);
  assert.equal(tty.written, ["\r\x1b[2Ktsprofile: loading big.cpuprofile..."]);
  const pipe = terminal(false);
  const q = startProgress(pipe, () => 5000);
  q.phase("loading big.cpuprofile", true);
  q.done();
  assert.equal(pipe.written, []);
});

test.run();
