import type { DemoDescription } from './setup.ts';

/** The few lines `behalf up --demo` prints: where to go, who to be, what to trust. */
export function welcomeText(demo: DemoDescription, demoFile: string): string {
  const width = Math.max(...demo.users.map((u) => u.username.length));
  const lines = [
    '',
    'Behalf is up with the Contoso demo tenant.',
    '',
    `  Authority      ${demo.authority}`,
    `  Sign-in test   ${demo.urls.signIn}?client_id=${demo.apps['Behalf Chat']?.appId ?? ''}&response_type=code&scope=openid%20profile&redirect_uri=${encodeURIComponent(`${demo.urls.behalf}/chat/callback`)}`,
    ...Object.entries(demo.urls)
      .filter(([name]) => !['behalf', 'signIn'].includes(name))
      .map(([name, url]) => `  ${name.padEnd(14)} ${url}`),
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
