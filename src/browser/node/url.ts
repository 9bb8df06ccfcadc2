// What node:url gives the browser bundle besides errors (scripts/build-browser.mjs): a URL's path,
// which the core only passes on to the file system (where nothing exists in a browser).
export const fileURLToPath = (url: string | URL): string => new URL(url).pathname;
