import { copyFile, mkdir, readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** Bundles the browser app into dist/public: app.js from TypeScript, pages and styles copied. */
const root = fileURLToPath(new URL("..", import.meta.url));
const source = `${root}src/client/ui/`;
const out = `${root}dist/public/`;

await mkdir(out, { recursive: true });
await build({
  entryPoints: [`${source}main.ts`],
  bundle: true,
  format: "esm",
  target: ["es2022"],
  platform: "browser",
  minify: true,
  sourcemap: true,
  outfile: `${out}app.js`,
  logLevel: "warning",
});
for (const file of await readdir(source)) {
  if (/\.(html|css|svg|ico)$/.test(file)) await copyFile(`${source}${file}`, `${out}${file}`);
}
