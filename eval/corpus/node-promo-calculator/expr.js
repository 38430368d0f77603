'use strict';
// Tiny arithmetic evaluator for promotion formulas written by the marketing
// team, e.g. "min(subtotal * 0.15, 2000) + items * 50".
// Grammar:  expr := term (('+'|'-') term)*
//           term := unary (('*'|'/'|'%') unary)*
//           unary := '-' unary | primary
//           primary := NUMBER | IDENT | IDENT '(' args ')' | '(' expr ')'

const FUNCTIONS = Object.freeze({
  min: Math.min,
  max: Math.max,
  round: (x) => Math.round(x),
  floor: (x) => Math.floor(x),
  ceil: (x) => Math.ceil(x),
});

const MAX_LENGTH = 500;

function tokenize(src) {
  const tokens = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t') { i++; continue; }
    if (/[0-9.]/.test(c)) {
      let j = i;
      while (j < src.length && /[0-9.]/.test(src[j])) j++;
      const n = Number(src.slice(i, j));
      if (!Number.isFinite(n)) throw new SyntaxError(`bad number at ${i}`);
      tokens.push({ t: 'num', v: n });
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j])) j++;
      tokens.push({ t: 'id', v: src.slice(i, j) });
      i = j;
    } else if ('+-*/%(),'.includes(c)) {
      tokens.push({ t: c });
      i++;
    } else {
      throw new SyntaxError(`unexpected character at ${i}`);
    }
  }
  return tokens;
}

function evaluate(src, vars) {
  if (typeof src !== 'string' || src.length > MAX_LENGTH) throw new SyntaxError('formula too long or not a string');
  const tokens = tokenize(src);
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (t) => {
    const tok = tokens[pos];
    if (!tok || (t && tok.t !== t)) throw new SyntaxError(`expected ${t || 'token'}`);
    pos++;
    return tok;
  };

  function primary() {
    const tok = take();
    if (tok.t === 'num') return tok.v;
    if (tok.t === '(') { const v = expr(); take(')'); return v; }
    if (tok.t === 'id') {
      if (peek() && peek().t === '(') {
        if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, tok.v)) throw new ReferenceError(`unknown function ${tok.v}`);
        take('(');
        const args = [];
        if (peek() && peek().t !== ')') {
          args.push(expr());
          while (peek() && peek().t === ',') { take(','); args.push(expr()); }
        }
        take(')');
        return FUNCTIONS[tok.v](...args);
      }
      if (!Object.prototype.hasOwnProperty.call(vars, tok.v)) throw new ReferenceError(`unknown variable ${tok.v}`);
      const v = Number(vars[tok.v]);
      return Number.isFinite(v) ? v : 0;
    }
    throw new SyntaxError('unexpected token');
  }
  function unary() {
    if (peek() && peek().t === '-') { take('-'); return -unary(); }
    return primary();
  }
  function term() {
    let v = unary();
    while (peek() && '*/%'.includes(peek().t)) {
      const op = take().t;
      const r = unary();
      v = op === '*' ? v * r : op === '/' ? (r === 0 ? 0 : v / r) : (r === 0 ? 0 : v % r);
    }
    return v;
  }
  function expr() {
    let v = term();
    while (peek() && (peek().t === '+' || peek().t === '-')) {
      const op = take().t;
      const r = term();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  }

  const result = expr();
  if (pos !== tokens.length) throw new SyntaxError('trailing input');
  return result;
}

module.exports = { evaluate };
