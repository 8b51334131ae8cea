// A compiled WebAssembly module imported as a module (workerd, wrangler, esbuild).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
