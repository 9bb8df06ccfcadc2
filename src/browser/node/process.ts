// The global `process` for the browser bundle (scripts/build-browser.mjs injects it): no environment,
// and the warnings and stderr lines of the core (e.g. "no pretrained weights are shipped") on the console.
export const process = {
  env: {} as Record<string, string | undefined>,
  pid: 0,
  platform: 'browser',
  stderr: { write: (text: string): boolean => (console.warn(text.trimEnd()), true) },
  emitWarning: (message: string): void => console.warn(message),
};
