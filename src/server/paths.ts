import { fileURLToPath } from "node:url";

/**
 * The built browser app. This module sits two folders below the repository
 * root in the source (src/server/) and in the build (dist/server/main.js), so
 * the same relative path finds dist/public from both.
 */
export const PUBLIC_DIR = fileURLToPath(new URL("../../dist/public/", import.meta.url));
