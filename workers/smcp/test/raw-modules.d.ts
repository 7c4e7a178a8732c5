// Vite's `?raw` imports: a file's text, used to deploy the examples/ modules in tests.
declare module "*?raw" {
  const text: string;
  export default text;
}
