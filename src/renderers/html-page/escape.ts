// Text from the profiled program (function names, paths, the program's name) made safe to show: what a terminal
// or a browser would act on or hide is shown as \xNN / \uNNNN instead. Browser code (it imports nothing) that the
// text renderers use too, through common.ts: the HTML page and the text report escape the same code points.

// C0/C1 controls and DEL; the bidi marks, embeddings, overrides and isolates (U+061C, U+200E-F, U+202A-E,
// U+2066-9) that reorder what is shown (`x<U+202E>gnp.js` reads as `xsj.png`); the line and paragraph separators
// (U+2028-9) that break a line; and the invisible ones (zero width space, word joiner and invisible operators,
// U+FEFF) that hide a difference. Zero width (non-)joiners stay: scripts and emoji need them.
// deno-lint-ignore no-control-regex -- control characters are exactly what must not be shown raw
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** `text` with every unsafe code point written as an escape (\x1b, \u202e); unchanged when it has none. */
export function escapeText(text: string): string {
  if (!UNSAFE.test(text)) return text;
  UNSAFE.lastIndex = 0;
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
