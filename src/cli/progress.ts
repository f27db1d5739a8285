// What a user waits on, said on a terminal: a report of a big profile can take seconds to load and render, and a
// silent terminal looks hung. One line on stderr, rewritten per phase and cleared before the report; nothing when
// stderr is not a terminal, and nothing for work done within a second.

/** Work shorter than this says nothing. */
const QUIET_MS = 1000;

export interface Progress {
  /** The phase starting now; `long` (a big file) says it at once, else once a second has passed. */
  phase(what: string, long?: boolean): void;
  /** Clears the line, before the report or a message goes out. */
  done(): void;
}

interface Terminal {
  isTTY?: boolean;
  write(text: string): unknown;
}

export function startProgress(stream: Terminal = process.stderr, now = () => performance.now()): Progress {
  const start = now();
  let shown = false;
  return {
    phase(what, long = false) {
      if (!stream.isTTY || (!long && now() - start < QUIET_MS)) return;
      stream.write(`\r\x1b[2Ktsprofile: ${what}...`);
      shown = true;
    },
    done() {
      if (shown) stream.write("\r\x1b[2K");
      shown = false;
    },
  };
}
