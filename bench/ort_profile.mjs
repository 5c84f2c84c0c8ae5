// ONNX Runtime's per-node profile of one model, for `deltakern compare`
// (docs/bench.md, "An ONNX Runtime profile as a side").
//
// usage: node bench/ort_profile.mjs MODEL.onnx OUT.json [options]
//   --input X.npy     the input (float32 .npy, one-input model); default:
//                     uniform random in [-1, 1) from --seed
//   --seed N          seed of the random input (default: from the clock; printed)
//   --threads N       intra-op threads (default 2)
//   --runs N          timed runs recorded in the profile (default 20)
//   --warmup N        runs before them, left out of the profile (default 2)
//   --opt LEVEL       graph optimisation: all|extended|basic|disabled (default all)
//   --ort-dir DIR     where onnxruntime-node is installed (default: bench/ort-runtime,
//                     or $DK_ORT_DIR); see docs/bench.md
//   --force           replace an existing OUT.json
//
// ORT profiles a session from its creation to endProfiling(), so the warm-up
// runs are in the file ORT writes; this script drops them (their model_run
// event and every event within it) and writes the rest, otherwise as ORT wrote
// it, to OUT.json (through a temporary file, renamed). ORT's own file is removed.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const USAGE = `usage: node bench/ort_profile.mjs MODEL.onnx OUT.json [--input X.npy | --seed N]
       [--threads N] [--runs N] [--warmup N] [--opt all|extended|basic|disabled]
       [--ort-dir DIR] [--force]
Writes ONNX Runtime's profile of the timed runs (warm-ups left out) for
deltakern compare: one "model_run" per run, one "<node>_kernel_time" per node.`;

function fail(msg) {
  console.error(`ort_profile: ${msg}`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { threads: 2, runs: 20, warmup: 2, opt: 'all', force: false, pos: [] };
  const ints = { '--threads': [1, 1024], '--runs': [1, 100000], '--warmup': [0, 100000], '--seed': [0, 2 ** 31 - 1] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--force') {
      o.force = true;
    } else if (a in ints || a === '--input' || a === '--opt' || a === '--ort-dir') {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value\n${USAGE}`);
      if (a in ints) {
        const [lo, hi] = ints[a];
        if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) fail(`${a} ${v}: expected an integer ${lo} to ${hi}`);
        o[a.slice(2)] = Number(v);
      } else if (a === '--opt') {
        if (!['all', 'extended', 'basic', 'disabled'].includes(v)) fail(`--opt ${v}: expected all, extended, basic or disabled`);
        o.opt = v;
      } else {
        o[a === '--input' ? 'input' : 'ortDir'] = v;
      }
    } else if (a.startsWith('-')) {
      fail(`unknown option ${a}\n${USAGE}`);
    } else {
      o.pos.push(a);
    }
  }
  if (o.pos.length !== 2) fail(`expected MODEL.onnx and OUT.json\n${USAGE}`);
  if (o.input !== undefined && o.seed !== undefined) fail('--input and --seed exclude each other');
  return o;
}

function loadOrt(dir) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const where = dir || process.env.DK_ORT_DIR || path.join(here, 'ort-runtime');
  try {
    return createRequire(path.join(path.resolve(where), 'package.json'))('onnxruntime-node');
  } catch (e) {
    fail(`cannot load onnxruntime-node from ${where} (${e.code || e.message}); install it there:\n` +
      `  mkdir -p ${where} && cd ${where} && echo '{"private": true}' > package.json &&\n` +
      `  ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund onnxruntime-node@1.30.0`);
  }
}

function loadNpy(ort, file) {
  let buf;
  try { buf = fs.readFileSync(file); } catch (e) { fail(`${file}: ${e.message}`); }
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  if (!header.includes("'<f4'")) fail(`${file}: expected little-endian float32`);
  if (/'fortran_order':\s*True/.test(header)) fail(`${file}: Fortran order is not supported`);
  const shape = header.match(/\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (buf.length - start !== 4 * count) fail(`${file}: ${buf.length - start} data bytes for shape [${shape}]`);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  return new ort.Tensor('float32', data, shape);
}

// mulberry32: a small seeded generator, so that a seed gives the same input
function randomInput(ort, meta, seed) {
  const dims = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const count = dims.reduce((a, b) => a * b, 1);
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = 2 * next() - 1;
  return new ort.Tensor('float32', data, dims);
}

const o = parseArgs(process.argv.slice(2));
const [model, out] = o.pos;
if (!fs.existsSync(model)) fail(`${model}: no such file`);
if (fs.existsSync(out) && !o.force) fail(`${out} exists (use --force to overwrite)`);
const ort = loadOrt(o.ortDir);
const prefix = path.join(fs.mkdtempSync(path.join(path.dirname(path.resolve(out)), '.ort_profile-')), 'ort');
process.on('exit', () => fs.rmSync(path.dirname(prefix), { recursive: true, force: true }));
let session;
try {
  session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: o.threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: o.opt, enableProfiling: true, profileFilePrefix: prefix,
  });
} catch (e) {
  fail(`${model}: ONNX Runtime cannot load it: ${String(e.message || e).split('\n')[0]}`);
}
if (session.inputNames.length !== 1) fail(`${model}: ${session.inputNames.length} inputs; this script feeds one`);
let feed;
if (o.input !== undefined) {
  feed = loadNpy(ort, o.input);
  console.log(`input ${o.input}`);
} else {
  const seed = o.seed ?? (Date.now() % 2147483647);
  const meta = session.inputMetadata?.[0];
  if (!meta || !meta.shape) fail(`${model}: the input's shape is unknown to this onnxruntime-node; give --input`);
  feed = randomInput(ort, meta, seed);
  console.log(`input random, uniform in [-1, 1), seed ${seed}`);
}
const feeds = { [session.inputNames[0]]: feed };
const times = [];
try {
  for (let i = 0; i < o.warmup; i++) await session.run(feeds);
  for (let i = 0; i < o.runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
} catch (e) {
  fail(`${model}: run failed: ${String(e.message || e).split('\n')[0]}`);
}
session.endProfiling();
await session.release?.();

// ORT names its file PREFIX_<date>_<time>.json
const dir = path.dirname(prefix);
const written = fs.readdirSync(dir).filter((f) => f.startsWith('ort_') && f.endsWith('.json'));
if (written.length !== 1) fail(`expected one profile in ${dir}, found ${written.length}`);
const events = JSON.parse(fs.readFileSync(path.join(dir, written[0]), 'utf8'));
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
if (runs.length !== o.warmup + o.runs) fail(`the profile holds ${runs.length} runs, expected ${o.warmup + o.runs}`);
const dropped = runs.slice(0, o.warmup);
const inDropped = (e) => dropped.some((r) => e === r || (e.ts >= r.ts && e.ts <= r.ts + r.dur));
const kept = events.filter((e) => !inDropped(e));
const tmp = `${out}.tmp${process.pid}`;
fs.writeFileSync(tmp, '[\n' + kept.map((e) => JSON.stringify(e)).join(',\n') + '\n]\n');
fs.renameSync(tmp, out);
times.sort((a, b) => a - b);
const mid = times.length >> 1;
const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
const nodes = new Set(kept.filter((e) => e.cat === 'Node').map((e) => e.name)).size;
console.log(`onnxruntime-node ${ort.env?.versions?.common ?? '?'}, ${o.threads} threads, optimisation ${o.opt}: ` +
  `${o.runs} runs after ${o.warmup} warm-up(s), median ${median.toFixed(3)} ms ` +
  `(session.run wall time)`);
console.log(`wrote ${out}: ${kept.length} events, ${nodes} node names, ${o.runs} runs`);
