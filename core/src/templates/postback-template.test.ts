import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkTemplate,
  encodeMacroValue,
  maxRenderedUrlLength,
  previewTemplate,
  renderTemplate,
  sampleMacroValues,
  standardMacros,
  type CompiledTemplate,
  type MacroValues,
  type TemplateCheckOptions,
} from './postback-template.ts';

const validList = standardMacros.join(', ');
const loneSurrogates = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function compile(template: string, options: TemplateCheckOptions = {}): CompiledTemplate {
  const checked = checkTemplate(template, options);
  if (!checked.ok) throw new Error(`template refused: ${checked.reason.join('; ')}`);
  return checked.value;
}

function render(template: string, values: MacroValues, options: TemplateCheckOptions = {}): string {
  const rendered = renderTemplate(compile(template, options), values);
  if (!rendered.ok) throw new Error(`render failed: ${rendered.reason}`);
  return rendered.value;
}

function problemsOf(template: string, options: TemplateCheckOptions = {}): readonly string[] {
  const checked = checkTemplate(template, options);
  return checked.ok ? [] : checked.reason;
}

describe('encodeMacroValue', () => {
  it.each([
    ['a+b', 'a%2Bb'],
    ['a b', 'a%20b'],
    ['a%20b', 'a%2520b'], // a value that looks encoded is still a value: encoded once, never decoded
    ['é/?&=#', '%C3%A9%2F%3F%26%3D%23'],
    ['\ud800x', '%EF%BF%BDx'], // lone surrogate → U+FFFD instead of a URIError
    ['', ''],
  ])('%j → %j', (value, encoded) => {
    expect(encodeMacroValue(value)).toBe(encoded);
  });
});

describe('macro syntaxes', () => {
  const value = 'a+b c/é';
  const expected = 'https://t.example/pb?transaction_id=a%2Bb%20c%2F%C3%A9&x=1';
  it.each([
    '{transaction_id}',
    '{{transaction_id}}',
    '{{ transaction_id }}',
    '#transaction_id#',
    '[TRANSACTION_ID]',
    '%TRANSACTION_ID%',
    '${TRANSACTION_ID}',
    '{Transaction_Id}',
    'TRANSACTION_ID',
    'CLICK_ID',
    'REPLACE',
    'OPTIONAL',
  ])('%s', (syntax) => {
    expect(render(`https://t.example/pb?transaction_id=${syntax}&x=1`, { transaction_id: value })).toBe(expected);
  });

  it('reads a macro in the path and in the fragment', () => {
    expect(render('https://t.example/c/{transaction_id}/p#{event}', { transaction_id: 'a/b', event: 'sale' })).toBe('https://t.example/c/a%2Fb/p#sale');
  });

  it('keeps percent-escapes of the template as they are, also when they look like %NAME%', () => {
    expect(render('https://t.example/%C3%A9t%C3%A9?q=%20%2B&a=%AB%CD&tid={transaction_id}', { transaction_id: 'x' })).toBe(
      'https://t.example/%C3%A9t%C3%A9?q=%20%2B&a=%AB%CD&tid=x',
    );
  });

  it('reads %NAME% that starts like a percent-escape when it names a known macro', () => {
    expect(render('https://t.example/pb?s=%ADV_SUB%', { adv_sub: 'v' }, { extraMacros: ['adv_sub'] })).toBe('https://t.example/pb?s=v');
  });

  it('leaves brackets in parameter names alone (PHP arrays)', () => {
    expect(render('https://t.example/pb?sub[id]={sub1}', { sub1: 'x' })).toBe('https://t.example/pb?sub[id]=x');
  });

  it('accepts the offer’s extra macros, case-insensitively', () => {
    const options = { extraMacros: ['aff_sub', 'Source'] };
    expect(render('https://t.example/pb?a={AFF_SUB}&s=[source]', { aff_sub: '1', Source: 'fb' }, options)).toBe('https://t.example/pb?a=1&s=fb');
  });

  it('lists the macros a template uses, first use first, literal placeholders resolved', () => {
    expect(compile('https://t.example/pb?a={amount}&cid=REPLACE&b=[AMOUNT]&c=ORDER_ID&coupon=OPTIONAL').macros).toEqual([
      'amount',
      'transaction_id',
      'order_id',
      'coupon',
    ]);
  });
});

describe('literal placeholders resolved by the parameter name', () => {
  const values: MacroValues = {
    transaction_id: 'TX',
    amount: '9.50',
    order_id: 'ORD',
    currency: 'EUR',
    coupon: 'C10',
    sub1: 'S1',
    order_number: '#7',
    timestamp: '17',
  };
  it.each([
    ['transaction_id', 'TX'],
    ['click_id', 'TX'],
    ['clickid', 'TX'],
    ['cid', 'TX'],
    ['subid', 'TX'],
    ['r', 'TX'],
    ['_ef_transaction_id', 'TX'],
    ['amount', '9.50'],
    ['payout', '9.50'],
    ['sum', '9.50'],
    ['p', '9.50'],
    ['adv_sub', 'ORD'],
    ['order_id', 'ORD'],
    ['txid', 'ORD'],
    ['tid', 'ORD'],
    ['t', 'ORD'],
    ['action_id', 'ORD'],
    ['adv_order_id', 'ORD'],
    ['txn_id', 'ORD'],
    ['currency', 'EUR'],
    ['cnv_currency', 'EUR'],
    ['coupon', 'C10'],
    ['sub1', 'S1'],
    ['aff_sub', 'S1'],
    ['order_number', '%237'],
    ['ts', '17'],
    ['CID', 'TX'],
  ])('%s=REPLACE → %s', (key, expected) => {
    expect(render(`https://t.example/pb?${key}=REPLACE`, values)).toBe(`https://t.example/pb?${key}=${expected}`);
  });

  it('prefers an extra macro of that name', () => {
    expect(render('https://t.example/pb?aff_sub=REPLACE', { aff_sub: 'mine', sub1: 'S1' }, { extraMacros: ['aff_sub'] })).toBe(
      'https://t.example/pb?aff_sub=mine',
    );
  });

  it.each([
    ['AMOUNT', 'amount', '9.50'],
    ['PAYOUT', 'amount', '9.50'],
    ['ORDER_ID', 'order_id', 'ORD'],
    ['CURRENCY', 'currency', 'EUR'],
    ['CLICKID', 'transaction_id', 'TX'],
  ])('%s names its own macro (%s) whatever the parameter', (word, _macro, expected) => {
    expect(render(`https://t.example/pb?x=${word}`, values)).toBe(`https://t.example/pb?x=${expected}`);
  });

  it('leaves lowercase words and partial matches alone', () => {
    expect(render('https://t.example/pb?a=amount&b=AMOUNTS&c=replace&d=xREPLACE', values)).toBe(
      'https://t.example/pb?a=amount&b=AMOUNTS&c=replace&d=xREPLACE',
    );
  });
});

describe('OPTIONAL parameters', () => {
  it.each<[string, string, MacroValues, string, TemplateCheckOptions?]>([
    ['resolved and filled: kept', 'https://t.example/pb?cid={transaction_id}&coupon=OPTIONAL&x=1', { transaction_id: 'a', coupon: 'SAVE 10' }, 'https://t.example/pb?cid=a&coupon=SAVE%2010&x=1'],
    ['resolved to empty: dropped', 'https://t.example/pb?cid={transaction_id}&coupon=OPTIONAL&x=1', { transaction_id: 'a', coupon: '' }, 'https://t.example/pb?cid=a&x=1'],
    ['resolved to missing: dropped', 'https://t.example/pb?cid={transaction_id}&coupon=OPTIONAL&x=1', { transaction_id: 'a' }, 'https://t.example/pb?cid=a&x=1'],
    ['not resolvable: dropped', 'https://t.example/pb?cid={transaction_id}&adv_sub2=OPTIONAL&x=1', { transaction_id: 'a' }, 'https://t.example/pb?cid=a&x=1'],
    ['first parameter dropped', 'https://t.example/pb?coupon=OPTIONAL&cid={transaction_id}', { transaction_id: 'a' }, 'https://t.example/pb?cid=a'],
    ['last parameter dropped', 'https://t.example/pb?cid={transaction_id}&coupon=OPTIONAL', { transaction_id: 'a' }, 'https://t.example/pb?cid=a'],
    ['every parameter dropped: no "?"', 'https://t.example/pb?coupon=OPTIONAL&goal=OPTIONAL', {}, 'https://t.example/pb'],
    ['before a fragment', 'https://t.example/pb?cid={transaction_id}&coupon=OPTIONAL#f', { transaction_id: 'a' }, 'https://t.example/pb?cid=a#f'],
    ['extra macro', 'https://t.example/pb?cid={transaction_id}&aff_sub=OPTIONAL', { transaction_id: 'a', aff_sub: 'z' }, 'https://t.example/pb?cid=a&aff_sub=z', { extraMacros: ['aff_sub'] }],
    ['offer_id is the network’s own: dropped', 'https://t.example/pb?offer_id=OPTIONAL&cid={transaction_id}', { transaction_id: 'a', offer_id: 'ours' }, 'https://t.example/pb?cid=a'],
  ])('%s', (_name, template, values, expected, options = {}) => {
    expect(render(template, values, options)).toBe(expected);
  });

  it('does not drop a plain macro that renders empty', () => {
    expect(render('https://t.example/pb?cid={transaction_id}&c={coupon}', { transaction_id: 'a' })).toBe('https://t.example/pb?cid=a&c=');
  });
});

describe('checkTemplate refuses bad templates with a clear message', () => {
  it.each<[string, string, readonly string[], TemplateCheckOptions?]>([
    ['unknown macro', 'https://t.example/pb?x={clickid}', [`unknown macro {clickid}; valid macros: ${validList}`]],
    ['unknown macro in another syntax', 'https://t.example/pb?x=[REQID]', [`unknown macro [REQID]; valid macros: ${validList}`]],
    [
      'unknown macro lists the extra macros',
      'https://t.example/pb?x={src}',
      [`unknown macro {src}; valid macros: ${validList}, aff_sub, source`],
      { extraMacros: ['aff_sub', 'source'] },
    ],
    ['unknown macro reported once', 'https://t.example/pb?x={nope}&y={NOPE}', [`unknown macro {nope}; valid macros: ${validList}`]],
    ['macro in host', 'https://{store}/pb', ['macros are not allowed in the scheme or host: {store}']],
    ['macro in a host label', 'https://t.[SUB1].example/pb', ['macros are not allowed in the scheme or host: [SUB1]']],
    ['macro in port', 'https://t.example:{sub1}/pb', ['macros are not allowed in the scheme or host: {sub1}']],
    ['macro as the scheme', '{store}://t.example/pb', ['macros are not allowed in the scheme or host: {store}']],
    ['ftp', 'ftp://t.example/pb', ['must use https:// (ftp: is not allowed)']],
    ['javascript', 'javascript:alert(1)', ['must be an absolute URL starting with https://']],
    ['relative', '/pb?tid={transaction_id}', ['must be an absolute URL starting with https://']],
    ['not a URL', 'not-a-url', ['must be an absolute URL starting with https://']],
    ['http without allowHttp', 'http://t.example/pb', ['must use https:// (plain http:// is allowed only when the offer sets allowHttp)']],
    ['credentials', 'https://user:pass@t.example/pb', ['must not contain credentials (user:password@)']],
    ['user only', 'https://user@t.example/pb', ['must not contain credentials (user:password@)']],
    ['no host', 'https:///pb', ['must have a host']],
    ['does not parse', 'https://t.example:99999/pb', ['is not a valid URL once macros are filled in']],
    ['space', 'https://t.example/pb?a=b c', ['must not contain spaces or control characters (percent-encode them, e.g. %20)']],
    ['line break', 'https://t.example/pb?a=1\n', ['must not contain spaces or control characters (percent-encode them, e.g. %20)']],
    ['lone surrogate', 'https://t.example/pb?a=\ud800', ['is not well-formed Unicode']],
    ['stray brace', 'https://t.example/pb?tid={transaction_id', ['invalid macro syntax at character 26: "{transaction_id" (write {name}, with letters, digits and _)']],
    ['REPLACE that cannot be resolved', 'https://t.example/pb?offer_id=REPLACE', ['parameter "offer_id" is still REPLACE: put the network\'s value or a macro there']],
    ['unfilled placeholder', 'https://<domain>/pb?tid={transaction_id}', ['fill in <domain>']],
    ['unfilled placeholders, each once', 'https://t.example/<key>/pb?a=<token>&b=<token>', ['fill in <key>', 'fill in <token>']],
  ])('%s', (_name, template, expected, options = {}) => {
    expect(problemsOf(template, options)).toEqual(expected);
  });

  it('reports every problem at once', () => {
    expect(problemsOf('ftp://u:p@{store}/pb?x={nope}&offer_id=REPLACE&d=<fill>')).toEqual([
      'must use https:// (ftp: is not allowed)',
      'macros are not allowed in the scheme or host: {store}',
      'must not contain credentials (user:password@)',
      `unknown macro {nope}; valid macros: ${validList}`,
      'parameter "offer_id" is still REPLACE: put the network\'s value or a macro there',
      'fill in <fill>',
    ]);
  });

  it.each([
    ['https with every standard macro', `https://t.example/pb?${standardMacros.map((m) => `${m}={${m}}`).join('&')}`, {}],
    ['http with allowHttp', 'http://127.0.0.1:8080/pb?tid={transaction_id}', { allowHttp: true }],
    ['uppercase scheme', 'HTTPS://t.example/pb', {}],
    ['IPv6 host', 'https://[2001:db8::1]/pb?tid={transaction_id}', {}],
  ])('accepts %s', (_name, template, options) => {
    expect(checkTemplate(template, options).ok).toBe(true);
  });
});

describe('renderTemplate', () => {
  it('renders missing values as empty', () => {
    expect(render('https://t.example/pb?tid={transaction_id}&a={amount}', {})).toBe('https://t.example/pb?tid=&a=');
  });

  it('lets a later key win over an earlier one that differs only in case', () => {
    expect(render('https://t.example/pb?tid={transaction_id}', { TRANSACTION_ID: 'extra', transaction_id: 'real' })).toBe('https://t.example/pb?tid=real');
  });

  it('refuses a runaway URL', () => {
    const rendered = renderTemplate(compile('https://t.example/pb?tid={transaction_id}'), { transaction_id: 'x'.repeat(maxRenderedUrlLength) });
    const length = 'https://t.example/pb?tid='.length + maxRenderedUrlLength;
    expect(rendered).toEqual({ ok: false, reason: `rendered URL is ${length} characters, more than ${maxRenderedUrlLength}` });
  });

  it('never encodes the template: no double encoding of what the merchant already encoded', () => {
    expect(render('https://t.example/p%20q?r=%2B&tid={transaction_id}', { transaction_id: '%2B' })).toBe('https://t.example/p%20q?r=%2B&tid=%252B');
  });
});

describe('previewTemplate', () => {
  it('renders the sample order and shows each substitution', () => {
    expect(previewTemplate('https://t.example/pb?tid={transaction_id}&a=AMOUNT&o=[ORDER_ID]&s={aff_sub}', undefined, { extraMacros: ['aff_sub'] })).toEqual({
      ok: true,
      value: {
        url: 'https://t.example/pb?tid=102a%2Bf3%209c&a=49.90&o=1001&s=sample-aff_sub',
        substitutions: [
          { macro: 'transaction_id', raw: '102a+f3 9c', encoded: '102a%2Bf3%209c' },
          { macro: 'amount', raw: '49.90', encoded: '49.90' },
          { macro: 'order_id', raw: '1001', encoded: '1001' },
          { macro: 'aff_sub', raw: 'sample-aff_sub', encoded: 'sample-aff_sub' },
        ],
      },
    });
  });

  it('uses the values it is given', () => {
    const preview = previewTemplate('https://t.example/pb?tid={transaction_id}&c=OPTIONAL', { ...sampleMacroValues, transaction_id: 'é' });
    expect(preview.ok && preview.value.url).toBe('https://t.example/pb?tid=%C3%A9');
  });

  it('returns the problems instead of a URL', () => {
    expect(previewTemplate('https://<domain>/pb?x={nope}')).toEqual({
      ok: false,
      reason: [`unknown macro {nope}; valid macros: ${validList}`, 'fill in <domain>'],
    });
  });
});

describe('properties', () => {
  it('any well-formed value comes back exactly through URLSearchParams', () => {
    const compiled = compile('https://t.example/pb?tid={transaction_id}&x=1');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (value) => {
        const rendered = renderTemplate(compiled, { transaction_id: value });
        expect(rendered.ok).toBe(true);
        if (!rendered.ok) return;
        const params = new URL(rendered.value).searchParams;
        expect(params.get('tid')).toBe(value);
        expect(params.get('x')).toBe('1');
      }),
      { numRuns: 500 },
    );
  });

  it('lone surrogates arrive as U+FFFD, the rest of the value intact', () => {
    const compiled = compile('https://t.example/pb?tid={transaction_id}');
    const unit = fc.oneof(fc.constantFrom('a', '+', ' ', '€'), fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 20 }), (value) => {
        const rendered = renderTemplate(compiled, { transaction_id: value });
        if (!rendered.ok) throw new Error(rendered.reason);
        expect(new URL(rendered.value).searchParams.get('tid')).toBe(value.replace(loneSurrogates, '\ufffd'));
      }),
    );
  });

  // Literal text that cannot form macro syntax by itself ({ [ # < $ and a bare % are what macros
  // are made of): everything else a merchant writes must come out byte for byte.
  const literalPiece = fc.constantFrom('%20', '+', '&', '=', '?', '/', 'é', '日本', '😀', 'a', 'Z', '0', '-', '.', '~', '%2B', '%E2%82%AC', ';', ',', '!', '*', "'", '(', ')', ':', '@');
  const literal = fc.array(literalPiece, { maxLength: 6 }).map((parts) => parts.join(''));
  // `before` is literal text too; the "=" keeps [X] out of a parameter name, where brackets are
  // PHP arrays by design
  const macro = fc.constantFrom(
    { before: '', text: '{transaction_id}', name: 'transaction_id' },
    { before: '', text: '{{amount}}', name: 'amount' },
    { before: '=', text: '[ORDER_ID]', name: 'order_id' },
    { before: '', text: '%CURRENCY%', name: 'currency' },
    { before: '', text: '${sub1}', name: 'sub1' },
    { before: '', text: '#coupon#', name: 'coupon' },
  );

  it('never alters the template’s own text', () => {
    fc.assert(
      fc.property(
        literal,
        fc.array(fc.tuple(macro, literal), { maxLength: 5 }),
        fc.dictionary(fc.constantFrom('transaction_id', 'amount', 'order_id', 'currency', 'sub1', 'coupon'), fc.string({ unit: 'binary', maxLength: 12 })),
        (first, rest, values) => {
          const template = `https://t.example/${first}${rest.map(([m, text]) => m.before + m.text + text).join('')}`;
          const rendered = renderTemplate(compile(template), values);
          const expected = `https://t.example/${first}${rest.map(([m, text]) => m.before + encodeMacroValue(values[m.name] ?? '') + text).join('')}`;
          expect(rendered).toEqual({ ok: true, value: expected });
          // and so each literal segment appears verbatim, in order
          let from = 0;
          for (const segment of [first, ...rest.flatMap(([m, text]) => [m.before, text])]) {
            const at = expected.indexOf(segment, from);
            expect(at).toBeGreaterThanOrEqual(from);
            from = at + segment.length;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('checking, rendering and previewing never throw', () => {
    const urlish = fc.string({
      unit: fc.constantFrom('h', 't', 'p', 's', ':', '/', '?', '&', '=', '#', '%', '{', '}', '[', ']', '$', '<', '>', '@', 'A', '_', '2', ' ', '\ud800', 'é', 'REPLACE', 'OPTIONAL', 'https://', '{transaction_id}'),
      maxLength: 40,
    });
    const template = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), urlish, urlish.map((s) => `https://t.example/${s}`));
    const values = fc.dictionary(fc.string({ maxLength: 15 }), fc.option(fc.string({ unit: 'binary', maxLength: 20 }), { nil: undefined }));
    fc.assert(
      fc.property(template, values, fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), fc.boolean(), (text, vals, extraMacros, allowHttp) => {
        const checked = checkTemplate(text, { extraMacros, allowHttp });
        // a checked template always renders; a refused one always says why
        const sound = checked.ok ? renderTemplate(checked.value, vals).ok : checked.reason.length > 0;
        expect(sound).toBe(true);
        previewTemplate(text, vals, { extraMacros, allowHttp });
      }),
      { numRuns: 1000 },
    );
  });
});
