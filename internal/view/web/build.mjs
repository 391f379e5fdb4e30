// Builds the page into dist/, which the handler binary embeds (internal/view/server.go):
// app.js (the map and its npm dependencies, bundled and minified), app.css and index.html.
// The output depends only on src/ and the versions in package-lock.json, so a rebuild gives the
// same bytes (internal/view's TestAssetsRebuildIntegration checks that).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

const out = process.argv[2] || "dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const common = { bundle: true, minify: true, target: "es2020", legalComments: "eof", logLevel: "warning" };
await build({ ...common, entryPoints: ["src/app.js"], outfile: `${out}/app.js`, format: "iife" });
await build({ ...common, entryPoints: ["src/app.css"], outfile: `${out}/app.css` });
copyFileSync("src/index.html", `${out}/index.html`);
