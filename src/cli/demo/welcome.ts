import type { DemoDescription } from './setup.ts';

/** The few lines `behalf up --demo` prints: where to go, who to be, what to trust. */
export function welcomeText(demo: DemoDescription, demoFile: string): string {
  const width = Math.max(...demo.users.map((u) => u.username.length));
  const alice = demo.users.find((u) => u.username.startsWith('alice@'));
  const lines = [
    '',
    'Behalf is up with the Contoso demo tenant.',
    '',
    `  Sign in as Alice: open ${demo.urls.myAccount ?? demo.urls.behalf}`,
    ...(alice ? [`                    ${alice.username} / ${alice.password}`] : []),
    ...(demo.urls.chat ? [`  Chat with the Admin agent: ${demo.urls.chat}  (type /help)`] : []),
    ...(demo.urls.mcp ? [`  MCP server for any MCP client: ${demo.urls.mcp}`] : []),
    '',
    `  ${'authority'.padEnd(19)} ${demo.authority}`,
    ...Object.entries(demo.urls)
      .filter(([name]) => !['behalf', 'signIn', 'myAccount', 'chat', 'mcp'].includes(name))
      .map(([name, url]) => `  ${name.padEnd(19)} ${url}`),
    '',
    '  Users (password):',
    ...demo.users.map((u) => `    ${u.username.padEnd(width)}  ${u.password}   ${u.displayName}`),
    '',
  ];
  if (demo.caCertificate)
    lines.push(
      '  Trust the local CA:',
      `    Node.js   export NODE_EXTRA_CA_CERTS=${demo.caCertificate}`,
      `    curl      curl --cacert ${demo.caCertificate} …`,
      '    browser   import that file as a trusted authority, or accept the warning once',
      '',
    );
  lines.push(
    `  Apps, secrets and URLs for scripts: ${demoFile} (mode 0600)`,
    '  Stop with Ctrl+C; start again with the same data directory to keep everything.',
    '',
  );
  return lines.join('\n');
}
