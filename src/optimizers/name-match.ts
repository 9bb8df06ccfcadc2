// Selecting parameters by name: a predicate, a glob, a /regex/, a RegExp, or a list of those.

/**
 * Which parameters (by tree name, e.g. "mlp/linear_0/w") something applies to:
 * - a function `(name) => boolean`;
 * - a RegExp (tested against the whole name, unanchored: `/\/b$/` is every bias);
 * - a string: written `/source/flags` it is that regular expression; otherwise a glob matched
 *   against the whole name, `*` standing for any run of characters (slashes included) and `?` for
 *   one (`mlp/*` is everything under mlp, `*_0/w` every w of a layer 0; every tensor named b is
 *   the glob star, slash, b);
 * - a list of strings or RegExps: a name matches when any of them does.
 */
export type NameMatcher = string | RegExp | ((name: string) => boolean) | readonly (string | RegExp)[];

/** The regular expression a glob stands for (anchored at both ends). */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function patternToRegExp(pattern: string | RegExp): RegExp {
  if (pattern instanceof RegExp) return pattern;
  const re = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  if (re) {
    try {
      return new RegExp(re[1], re[2].replace(/[gy]/g, ''));
    } catch (error) {
      throw new Error(`invalid regular expression ${pattern}: ${(error as Error).message}`);
    }
  }
  return globToRegExp(pattern);
}

/** The predicate a NameMatcher stands for. */
export function compileNameMatcher(matcher: NameMatcher): (name: string) => boolean {
  if (typeof matcher === 'function') return matcher;
  const patterns = (typeof matcher === 'string' || matcher instanceof RegExp ? [matcher] : [...matcher]).map((p) => {
    if (typeof p !== 'string' && !(p instanceof RegExp)) throw new Error(`a name pattern must be a string or a RegExp, got ${typeof p}`);
    const re = patternToRegExp(p);
    // A global/sticky RegExp's test() keeps lastIndex between calls: use a plain copy.
    return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re;
  });
  return (name: string) => patterns.some((re) => re.test(name));
}

/** A short text for a NameMatcher (names of chained optimizers, error messages). */
export function describeNameMatcher(matcher: NameMatcher): string {
  if (typeof matcher === 'function') return matcher.name ? `${matcher.name}()` : 'predicate';
  if (typeof matcher === 'string') return matcher;
  if (matcher instanceof RegExp) return String(matcher);
  return matcher.map((p) => String(p)).join(',');
}
