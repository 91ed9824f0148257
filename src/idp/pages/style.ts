/**
 * The one stylesheet of the sign-in pages. Plain CSS, no external fonts or images (the CSP forbids
 * them); sizes in rem so the pages follow the user's font size; visible focus for keyboard users.
 */
export const STYLESHEET = `
:root{color-scheme:light dark;--fg:#1b1b1b;--muted:#5c5c5c;--bg:#f2f2f2;--card:#fff;--accent:#0b5cad;--danger:#a4262c;--line:#d0d0d0}
@media (prefers-color-scheme:dark){:root{--fg:#f0f0f0;--muted:#b8b8b8;--bg:#1f1f1f;--card:#2b2b2b;--accent:#6cb8f6;--danger:#f1707b;--line:#4a4a4a}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:var(--bg);color:var(--fg);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
.card{background:var(--card);width:100%;max-width:28rem;padding:2.5rem 2.75rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}
.brand{margin:0 0 1rem;font-weight:600;color:var(--muted)}
h1{font-size:1.5rem;margin:0 0 1rem;font-weight:600}
p{margin:.5rem 0}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input[type=text],input[type=email],input[type=password]{width:100%;padding:.5rem;font:inherit;color:inherit;background:transparent;border:0;border-bottom:1px solid var(--muted)}
input:focus-visible,button:focus-visible,a:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.actions{display:flex;gap:.75rem;justify-content:flex-end;margin-top:1.5rem}
button{font:inherit;padding:.45rem 1.5rem;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer;min-width:6.5rem}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
.error{color:var(--danger);margin:.5rem 0}
.inline{display:inline;font-weight:400}
.muted{color:var(--muted);font-size:.875rem}
ul.permissions{padding-left:1.25rem}
ul.permissions li{margin:.5rem 0}
ul.accounts{list-style:none;padding:0}
ul.accounts button{width:100%;text-align:left;margin:.25rem 0}
code,.code{font-family:ui-monospace,Consolas,monospace;word-break:break-all}
.details{border-top:1px solid var(--line);margin-top:1.5rem;padding-top:.75rem}
`;
