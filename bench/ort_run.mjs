// Times ONNX Runtime (CPU) on one model and its .npy input, batch 1.
// usage: node ort_run.mjs MODEL.onnx INPUT.npy RUNS THREADS [WARMUP]
// Prints one line per timed run: "ort <ms>" (WARMUP untimed runs first, default 1).
import fs from 'node:fs';
import ort from 'onnxruntime-node';

function loadNpy(path) {
  const buf = fs.readFileSync(path);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  if (!header.includes("'<f4'")) throw new Error(`${path}: expected little-endian float32`);
  const shape = header.match(/\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  return new ort.Tensor('float32', data, shape);
}

const [model, input, runs, threads, warmup = '1'] = process.argv.slice(2);
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: Number(threads), interOpNumThreads: 1, graphOptimizationLevel: 'all',
  executionMode: 'sequential',
});
const feeds = { [session.inputNames[0]]: loadNpy(input) };
for (let i = 0; i < Number(warmup); i++) await session.run(feeds);
for (let i = 0; i < Number(runs); i++) {
  const t0 = process.hrtime.bigint();
  await session.run(feeds);
  console.log(`ort ${Number(process.hrtime.bigint() - t0) / 1e6}`);
}
