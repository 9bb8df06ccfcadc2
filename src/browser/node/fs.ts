// What node:fs gives the browser bundle besides errors (scripts/build-browser.mjs): no file exists, so
// the core finds no shipped pretrained weights on a disk and asks for bytes or a URL instead.
export const existsSync = (): boolean => false;
