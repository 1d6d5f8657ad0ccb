import fs from "node:fs"; const p = "dist/cli/main.js"; if (fs.existsSync(p)) fs.chmodSync(p, 0o755);
