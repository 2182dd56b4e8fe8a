import { describe, expect, it } from 'vitest';
import { extractMath } from './markdown';

describe('extractMath', () => {
  it('cuts out inline and display math but not code or prices', () => {
    const r = extractMath('Energy $E=mc^2$ and $$\\int_0^1 x_i\\,dx$$ cost $5 and $6. `$x$` \\(a_b\\)');
    expect(r.math).toEqual([
      { tex: 'E=mc^2', display: false },
      { tex: '\\int_0^1 x_i\\,dx', display: true },
      { tex: 'a_b', display: false },
    ]);
    expect(r.text).toContain('`$x$`');
    expect(r.text).toContain('cost $5 and $6.');
  });
  it('leaves fenced code alone, even unterminated while streaming', () => {
    const r = extractMath('```py\nprint("$a$")\n');
    expect(r.math).toEqual([]);
  });
});
