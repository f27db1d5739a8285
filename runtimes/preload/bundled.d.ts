// Types only. The bundle's preload gets this as `true` from scripts/bundle.mjs (an esbuild define); in the source
// tree nothing defines it, so `typeof __TSPROFILE_BUNDLED__` is "undefined" there (runtimes/preload/preload.mjs).
declare const __TSPROFILE_BUNDLED__: true | undefined;
