// Kept in step with package.json by hand: reading package.json at run time breaks in bundles and on Deno/JSR.
export const VERSION = "0.1.0";
