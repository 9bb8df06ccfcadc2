// The bytes of the WebAssembly kernels (wasm/lopt_kernels.wasm). The browser bundle replaces this
// module by the file's bytes, embedded as base64 (scripts/build-browser.mjs), so that init() needs no
// URL and no server configuration; compiled by tsc for Node it holds none (Node reads the file:
// src/engine/wasm-node.ts).
export const wasmKernelBytes: Uint8Array | null = null;
