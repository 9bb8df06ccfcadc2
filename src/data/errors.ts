// A data problem the user can fix (missing or corrupt files): its message names the file and the fix.
export class DataError extends Error {
  override name = 'DataError';
}
