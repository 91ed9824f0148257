import type { Node, ParseError } from 'jsonc-parser';
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode } from 'jsonc-parser';
import type { Diagnostic } from './diagnostics.ts';
import type { PathSegment } from './pointer.ts';

/**
 * A JSON document as the maker wrote it: the original text, its syntax tree (for line:column of any
 * pointer and for order-preserving export) and its value. Real connector files are not always strict
 * JSON (connector-format.md §0.4: BOMs, trailing and missing commas), so the parse is tolerant and
 * every repair becomes a warning.
 */
export interface JsonSource {
  readonly file: string;
  /** The text without a BOM; offsets in `tree` refer to it. */
  readonly text: string;
  readonly tree: Node | undefined;
  readonly value: unknown;
  /** True when the text needed a repair (missing or trailing comma) to parse. */
  readonly repaired: boolean;
  readonly hadBom: boolean;
  readonly lineStarts: readonly number[];
}

export interface ParsedSource {
  readonly source: JsonSource;
  readonly diagnostics: Diagnostic[];
  /** False when the text could not be understood at all (the value is unusable). */
  readonly usable: boolean;
}

export function parseJsonSource(file: string, raw: string): ParsedSource {
  const hadBom = raw.charCodeAt(0) === 0xfeff;
  const text = hadBom ? raw.slice(1) : raw;
  const diagnostics: Diagnostic[] = [];
  if (hadBom)
    diagnostics.push({
      severity: 'warning',
      rule: 'json.bom',
      file,
      pointer: '',
      line: 1,
      column: 1,
      message: 'The file starts with a UTF-8 byte order mark; it was ignored.',
      fix: 'Save the file as UTF-8 without a BOM.',
    });
  // Fast path: most files are strict JSON, and the syntax tree (for line:column and repairs) is then
  // built only if a diagnostic needs a position.
  const strict = tryStrict(text);
  if (strict.ok) return { source: lazySource(file, text, strict.value, hadBom), diagnostics, usable: true };
  const lineStarts = computeLineStarts(text);
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  const at = (offset: number) => positionOf(lineStarts, offset);
  let repaired = false;
  let fatal = false;
  const seen = new Set<number>();
  for (const error of errors) {
    const kind = classify(text, error);
    if (kind === 'trailing-comma') {
      const comma = previousNonSpace(text, error.offset);
      if (seen.has(comma)) continue;
      seen.add(comma);
      repaired = true;
      diagnostics.push({
        severity: 'warning',
        rule: 'json.trailing-comma',
        file,
        pointer: pointerAtOffset(tree, comma),
        ...at(comma),
        message: 'Trailing comma before a closing bracket; it was ignored (strict JSON does not allow it).',
        fix: 'Delete the comma.',
      });
    } else if (kind === 'missing-comma') {
      repaired = true;
      const before = previousNonSpace(text, error.offset) + 1;
      diagnostics.push({
        severity: 'warning',
        rule: 'json.missing-comma',
        file,
        pointer: pointerAtOffset(tree, error.offset),
        ...at(before),
        message: 'A comma is missing between two members; one was assumed here.',
        fix: 'Insert a comma after the preceding value.',
      });
    } else if (kind === 'unclosed') {
      repaired = true;
      diagnostics.push({
        severity: 'warning',
        rule: 'json.unclosed',
        file,
        pointer: '',
        ...at(error.offset),
        message: `The file ends before its last ${printParseErrorCode(error.error) === 'CloseBraceExpected' ? 'object' : 'array'} is closed; it was closed here.`,
        fix: `Append the missing ${printParseErrorCode(error.error) === 'CloseBraceExpected' ? '}' : ']'} at the end of the file.`,
      });
    } else {
      // Later syntax errors are almost always the parser's echo of the first; one precise report helps more.
      if (fatal) continue;
      fatal = true;
      diagnostics.push({
        severity: 'error',
        rule: 'json.syntax',
        file,
        pointer: pointerAtOffset(tree, error.offset),
        ...at(error.offset),
        message: `Not valid JSON: ${describe(printParseErrorCode(error.error))}${near(text, error.offset)}.`,
        fix: 'Correct the JSON syntax at this position (a JSON linter shows the same place).',
      });
    }
  }
  if (tree === undefined) fatal = true;
  // jsonc-parser builds objects without a prototype; plain objects keep String() and friends safe.
  const value: unknown = tree ? JSON.parse(JSON.stringify(getNodeValue(tree)) ?? 'null') : undefined;
  return {
    source: { file, text, tree, value, repaired, hadBom, lineStarts },
    diagnostics,
    usable: !fatal,
  };
}

function tryStrict(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function lazySource(file: string, text: string, value: unknown, hadBom: boolean): JsonSource {
  let tree: Node | undefined | null = null;
  let lineStarts: number[] | undefined;
  return {
    file,
    text,
    value,
    repaired: false,
    hadBom,
    get tree() {
      if (tree === null) tree = parseTree(text);
      return tree;
    },
    get lineStarts() {
      return (lineStarts ??= computeLineStarts(text));
    },
  };
}

function classify(
  text: string,
  error: ParseError,
): 'trailing-comma' | 'missing-comma' | 'unclosed' | 'other' {
  const code = printParseErrorCode(error.error);
  if (code === 'CommaExpected') return 'missing-comma';
  // A file cut short of its last closing brace(s) (Shopranos/apiProperties.json).
  if (
    (code === 'CloseBraceExpected' || code === 'CloseBracketExpected') &&
    error.offset >= text.trimEnd().length
  )
    return 'unclosed';
  if (code === 'PropertyNameExpected' || code === 'ValueExpected') {
    const here = text[error.offset];
    if ((here === '}' || here === ']') && text[previousNonSpace(text, error.offset)] === ',')
      return 'trailing-comma';
  }
  return 'other';
}

const DESCRIPTIONS: Record<string, string> = {
  InvalidSymbol: 'unexpected text (strings must be in double quotes)',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'a property name in double quotes was expected',
  ValueExpected: 'a value was expected',
  ColonExpected: 'a colon was expected after the property name',
  CloseBraceExpected: 'a closing brace } was expected',
  CloseBracketExpected: 'a closing bracket ] was expected',
  EndOfFileExpected: 'unexpected content after the end of the document',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid unicode escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in a string',
};

function describe(code: string): string {
  return DESCRIPTIONS[code] ?? code;
}

function near(text: string, offset: number): string {
  const token = /^[^\s,:{}[\]"]{1,20}|^./.exec(text.slice(offset))?.[0];
  return token === undefined ? ' (at the end of the file)' : ` at ${JSON.stringify(token)}`;
}

function previousNonSpace(text: string, offset: number): number {
  let i = offset - 1;
  while (i >= 0 && /\s/.test(text[i]!)) i--;
  return i;
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function positionOf(lineStarts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lineStarts[lo]! + 1 };
}

/**
 * Line and column of the node at `path`, or of its nearest existing ancestor when the node is missing
 * (a missing `operationId` is reported at its operation).
 */
export function locate(
  source: JsonSource,
  path: readonly PathSegment[],
  atKey: boolean,
): { line: number; column: number } | undefined {
  if (!source.tree) return undefined;
  for (let n = path.length; n >= 0; n--) {
    const node = findNodeAtLocation(source.tree, path.slice(0, n) as PathSegment[]);
    if (!node) continue;
    const keyed = (atKey || n < path.length) && node.parent?.type === 'property' ? node.parent : node;
    return positionOf(source.lineStarts, keyed.offset);
  }
  return positionOf(source.lineStarts, source.tree.offset);
}

/** The JSON pointer of the innermost node containing `offset`. */
function pointerAtOffset(tree: Node | undefined, offset: number): string {
  if (!tree) return '';
  const path: PathSegment[] = [];
  let node: Node | undefined = tree;
  while (node && node.children) {
    const inner: Node | undefined = node.children.find(
      (c) => offset >= c.offset && offset < c.offset + c.length,
    );
    if (!inner) break;
    if (node.type === 'array') path.push(node.children.indexOf(inner));
    if (inner.type === 'property') {
      const key = inner.children?.[0]?.value;
      if (typeof key === 'string') path.push(key);
      node = inner.children?.[1];
    } else node = inner;
  }
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
