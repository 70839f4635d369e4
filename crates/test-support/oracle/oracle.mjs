// The conformance oracle: OpenClaw's own protocol validators, served over stdin/stdout.
//
// Usage: node oracle.mjs <openclaw package dir>   (node 24; the package is openclaw@2026.9.6)
//
// The package bundles its gateway-protocol code into dist/*.mjs files marked with
// `//#region packages/gateway-protocol/src`. Each such file ends with an
// `export { RealName as alias, ... }` clause; this script indexes those clauses once, so that a
// real name (`validateSessionsListParams`, `SessionRowSchema`, `lazyCompile`) can be imported by
// its minified alias. Nothing else of OpenClaw is loaded.
//
// Protocol: the first stdout line is `{"ready":true,"validators":N,"schemas":M}` (or
// `{"ready":false,"error":...}`). Then one JSON request per stdin line, one JSON answer per line:
//   {"id":1,"op":"validate","schema":"SessionsListParams","payload":{...}}
//     -> {"id":1,"known":true,"valid":false,"errors":[{keyword,instancePath,message,...}]}
//     `X` resolves to the compiled `validateX`, else to `lazyCompile(XSchema)`; known:false if neither.
//   {"id":2,"op":"schema","schema":"SessionsListParams"}  -> {"id":2,"known":bool,"schema":{...}|null}
//   {"id":3,"op":"has","schema":"X"}                       -> {"id":3,"known":bool}
//   {"id":4,"op":"names"}    -> {"id":4,"names":[every exported real name]}
// A request that cannot be served answers {"id":...,"error":"..."}; the script never exits on one.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

const MARKER = '//#region packages/gateway-protocol/src';

function index(pkgDir) {
  const dist = path.join(pkgDir, 'dist');
  const names = new Map(); // real name -> [file, alias]
  for (const file of fs.readdirSync(dist)) {
    if (!file.endsWith('.mjs')) continue;
    const full = path.join(dist, file);
    const src = fs.readFileSync(full, 'utf8');
    if (!src.includes(MARKER)) continue;
    const m = src.match(/export\s*\{([^}]*)\}\s*;?\s*$/);
    if (!m) continue;
    for (const part of m[1].split(',')) {
      const [real, alias] = part.trim().split(/\s+as\s+/);
      if (!real) continue;
      names.set(real.trim(), [full, (alias ?? real).trim()]);
    }
  }
  return names;
}

const modules = new Map();
async function load(names, real) {
  const hit = names.get(real);
  if (!hit) return undefined;
  const [file, alias] = hit;
  let mod = modules.get(file);
  if (!mod) {
    mod = await import(pathToFileURL(file).href);
    modules.set(file, mod);
  }
  return mod[alias];
}

const validators = new Map(); // base name -> validator function (or null when unknown)
async function validator(names, base) {
  if (validators.has(base)) return validators.get(base);
  let v = await load(names, `validate${base}`);
  if (typeof v !== 'function') {
    const schema = await load(names, `${base}Schema`);
    const lazyCompile = await load(names, 'lazyCompile');
    v = schema && typeof lazyCompile === 'function' ? lazyCompile(schema) : null;
  }
  validators.set(base, v ?? null);
  return v ?? null;
}

async function answer(names, req) {
  const op = req.op ?? 'validate';
  const base = typeof req.schema === 'string' ? req.schema : '';
  switch (op) {
    case 'validate': {
      const v = await validator(names, base);
      if (!v) return { known: false, valid: false, errors: [] };
      const valid = Boolean(v(req.payload));
      return { known: true, valid, errors: valid ? [] : (v.errors ?? []) };
    }
    case 'schema': {
      const schema = await load(names, `${base}Schema`);
      return { known: schema !== undefined, schema: schema ?? null };
    }
    case 'has':
      return { known: names.has(`validate${base}`) || names.has(`${base}Schema`) };
    case 'names':
      return { names: [...names.keys()] };
    default:
      return { error: `unknown op ${JSON.stringify(op)} (use validate, schema, has or names)` };
  }
}

const pkgDir = process.argv[2];
let names;
try {
  if (!pkgDir) throw new Error('usage: node oracle.mjs <openclaw package dir>');
  names = index(pkgDir);
  if (!names.has('lazyCompile')) throw new Error(`no gateway-protocol exports found under ${pkgDir}/dist`);
} catch (err) {
  process.stdout.write(JSON.stringify({ ready: false, error: String(err?.message ?? err) }) + '\n');
  process.exit(1);
}
const keys = [...names.keys()];
process.stdout.write(JSON.stringify({
  ready: true,
  validators: keys.filter((k) => k.startsWith('validate')).length,
  schemas: keys.filter((k) => k.endsWith('Schema')).length,
}) + '\n');

// Answers are written in request order (one at a time), so a reader can match them by id or order.
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let req;
  try {
    req = JSON.parse(line);
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: null, error: `request is not JSON: ${err.message}` }) + '\n');
    continue;
  }
  let out;
  try {
    out = await answer(names, req);
  } catch (err) {
    out = { error: String(err?.stack ?? err) };
  }
  process.stdout.write(JSON.stringify({ id: req.id ?? null, ...out }) + '\n');
}
