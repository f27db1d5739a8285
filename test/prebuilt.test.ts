// runtimes: node20 node24 -- the prebuilt native sampler is Node's (Deno and Bun never load it)
// The prebuilt binaries' archive (runtimes/node/addon/prebuilt.mjs): what it holds is written out where it can be
// loaded, the user's cache when the package folder is not writable, and nothing comes out of an archive built from
// other sources than the package's own or not holding this ABI. A made-up addon folder, not the real binaries.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  archivePath,
  extractPrebuilt,
  packArchive,
  readArchive,
  sourcesHash,
} from "../runtimes/node/addon/prebuilt.mjs";

const work = mkdtempSync(join(tmpdir(), "tsprofile-prebuilt-"));
const addon = join(work, "addon");
const cache = join(work, "cache");
const savedCache = process.env.XDG_CACHE_HOME;
process.env.XDG_CACHE_HOME = cache;
test.after(() => {
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  rmSync(work, { recursive: true, force: true });
});

const BINARIES = [
  { abi: "115", node: "20.19.0", bytes: new TextEncoder().encode("binary for 115 ".repeat(50)) },
  { abi: "137", node: "24.0.0", bytes: new TextEncoder().encode("binary for 137 ".repeat(60)) },
];

function setUp(): void {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(addon, "src"), { recursive: true });
  writeFileSync(join(addon, "binding.gyp"), "{}");
  writeFileSync(join(addon, "src", "sampler.cc"), "int x;");
  mkdirSync(join(addon, "prebuilds"));
  writeFileSync(archivePath(addon), packArchive({ sources: sourcesHash(addon), binaries: BINARIES }));
}

test("an archive reads back as written, smaller than its binaries", () => {
  setUp();
  const archive = readArchive(archivePath(addon));
  assert.ok(archive);
  assert.is(archive!.sources, sourcesHash(addon));
  assert.equal(
    archive!.binaries.map((b) => [b.abi, b.node, [...b.bytes]]),
    BINARIES.map((b) => [b.abi, b.node, [...b.bytes]]),
  );
  assert.ok(readFileSync(archivePath(addon)).length < BINARIES[0].bytes.length, "compressed");
});

test("the binary for an ABI is written to the target, once", () => {
  setUp();
  const target = join(addon, "bin", "sampler-137.node");
  assert.is(extractPrebuilt(addon, "137", target), target);
  assert.equal([...readFileSync(target)], [...BINARIES[1].bytes]);
  // A file already there is taken as it is (a build for this ABI, or this binary).
  writeFileSync(target, "built here");
  assert.is(extractPrebuilt(addon, "137", target), target);
  assert.is(readFileSync(target, "utf8"), "built here");
});

test("a target that cannot be written: the user's cache, named by the binary's content", () => {
  setUp();
  writeFileSync(join(addon, "bin"), "a file where the folder would be");
  const path = extractPrebuilt(addon, "115", join(addon, "bin", "sampler-115.node"));
  assert.ok(path?.startsWith(join(cache, "tsprofile")), String(path));
  assert.match(path!, /-115-[0-9a-f]{16}\.node$/);
  assert.equal([...readFileSync(path!)], [...BINARIES[0].bytes]);
  assert.is(extractPrebuilt(addon, "115", join(addon, "bin", "sampler-115.node")), path, "the cached file again");
});

test("nothing for an ABI the archive lacks, for changed sources, or from a damaged archive", () => {
  setUp();
  const target = join(addon, "bin", "sampler.node");
  assert.is(extractPrebuilt(addon, "127", target), undefined, "no 127 inside");
  appendFileSync(join(addon, "src", "sampler.cc"), "\n// edited");
  assert.is(extractPrebuilt(addon, "115", target), undefined, "built from other sources");
  setUp();
  writeFileSync(archivePath(addon), "not brotli");
  assert.is(readArchive(archivePath(addon)), undefined);
  assert.is(extractPrebuilt(addon, "115", target), undefined, "damaged");
  rmSync(join(addon, "prebuilds"), { recursive: true });
  assert.is(extractPrebuilt(addon, "115", target), undefined, "none shipped");
});

test.run();
