import { readFileSync } from 'node:fs';

/** The Redis token bucket script (token-bucket.lua, beside this file; the build copies it). */
export const TOKEN_BUCKET_LUA = readFileSync(new URL('./token-bucket.lua', import.meta.url), 'utf8');
