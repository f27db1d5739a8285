// The CLI's child runs this main script in place of a program whose extension Node's ES module loader does not
// know (t.exe): `node t.exe` runs such a file as CommonJS, but with --import (the sampler's preload) Node hands the
// main script to that loader, which refuses it. argv: [node, this file, program, ...args].
"use strict";
const Module = require("node:module");
const { resolve } = require("node:path");

const program = resolve(process.argv[2]);
// The program sees the argv it would under `node t.exe`: itself at argv[1], its own arguments after it.
process.argv.splice(1, 2, program);
// As the main module (require.main === module), as Node's own start-up loads it: Module._load is how Node's
// run_main does it (undocumented, stable since Node 0.x).
/** @type {{ _load(request: string, parent: null, isMain: boolean): unknown }} */ (/** @type {unknown} */ (Module))
  ._load(program, null, true);
