/** JSON Pointer (RFC 6901, https://www.rfc-editor.org/rfc/rfc6901) encoding of a property path. */
export type PathSegment = string | number;

export function toPointer(path: readonly PathSegment[]): string {
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '' || pointer === '#') return [];
  const body = pointer.startsWith('#') ? pointer.slice(1) : pointer;
  return body
    .split('/')
    .slice(1)
    .map((s) => decodeURIComponentSafe(s).replace(/~1/g, '/').replace(/~0/g, '~'));
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Reads a value at a path; undefined when any step is missing. */
export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node: unknown = root;
  for (const step of path) {
    if (Array.isArray(node)) node = node[Number(step)];
    else if (isObject(node)) node = Object.hasOwn(node, String(step)) ? node[String(step)] : undefined;
    else return undefined;
  }
  return node;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
