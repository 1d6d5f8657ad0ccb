// rhea is CommonJS and Node's ESM loader cannot see most of its named exports, so load it with
// require and keep the package's own types.
import { createRequire } from "node:module";

const rhea = createRequire(import.meta.url)("rhea") as typeof import("rhea");

export const { create_container, generate_uuid, message, string_to_uuid, types, uuid_to_string } = rhea;
