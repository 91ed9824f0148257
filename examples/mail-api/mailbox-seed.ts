/**
 * The Contoso Mail demo data: Alice has a mailbox with read and unread messages; Bob has none (the
 * two-user scenario of seed 003: the same tool works for one user and is refused for the other).
 * Shapes follow Microsoft Graph's `message` resource (v1.0) so connector schemas read like Graph's.
 */
export interface EmailAddress {
  readonly emailAddress: { readonly name: string; readonly address: string };
}

export interface Message {
  readonly id: string;
  readonly parentFolderId: string;
  readonly subject: string;
  readonly bodyPreview: string;
  readonly body: { readonly contentType: 'text' | 'html'; readonly content: string };
  readonly from: EmailAddress;
  readonly toRecipients: readonly EmailAddress[];
  readonly receivedDateTime: string;
  readonly sentDateTime: string;
  readonly isRead: boolean;
  readonly importance: 'low' | 'normal' | 'high';
  readonly hasAttachments: boolean;
}

/** Well-known folder names Graph accepts in place of folder ids. */
export const WELL_KNOWN_FOLDERS = ['inbox', 'sentitems', 'drafts', 'deleteditems', 'archive'] as const;

/** Mailboxes keyed by lower-case UPN. */
export type MailSeed = Record<string, Message[]>;

const person = (name: string, address: string): EmailAddress => ({ emailAddress: { name, address } });

export function defaultMailSeed(domain = 'contoso.test'): MailSeed {
  const alice = person('Alice Anders', `alice@${domain}`);
  const day = (n: number, hour: number) => new Date(Date.UTC(2026, 0, n, hour, 0, 0)).toISOString();
  const inbox = (
    n: number,
    from: EmailAddress,
    subject: string,
    content: string,
    isRead: boolean,
    importance: Message['importance'] = 'normal',
  ): Message => ({
    id: `AAMkAGI2-alice-${String(n).padStart(4, '0')}`,
    parentFolderId: 'inbox',
    subject,
    bodyPreview: content.slice(0, 255),
    body: { contentType: 'text', content },
    from,
    toRecipients: [alice],
    receivedDateTime: day(n, 9),
    sentDateTime: day(n, 8),
    isRead,
    importance,
    hasAttachments: false,
  });
  const megan = person('Megan Bowen', `megan@${domain}`);
  const it = person('Contoso IT', `it@${domain}`);
  const adele = person('Adele Vance', `adele@${domain}`);
  const messages: Message[] = [
    inbox(1, it, 'Welcome to Contoso', 'Your account is ready. Sign in at the portal to get started.', true),
    inbox(
      2,
      megan,
      'Quarterly planning kickoff',
      'Please bring your draft objectives to Thursday’s kickoff.',
      true,
    ),
    inbox(3, adele, 'Lunch on Friday?', 'The new place on 5th street opens Friday. Shall we?', true),
    inbox(4, it, 'Password expiry reminder', 'Your password expires in 14 days.', true, 'low'),
    inbox(
      5,
      megan,
      'Budget review moved to Tuesday',
      'The budget review is now on Tuesday at 10:00.',
      false,
      'high',
    ),
    inbox(
      6,
      adele,
      'Customer escalation: Fabrikam',
      'Fabrikam reports failed orders since this morning; can you look?',
      false,
      'high',
    ),
    inbox(
      7,
      it,
      'Scheduled maintenance this weekend',
      'Mail will be unavailable on Saturday 02:00–04:00 UTC.',
      false,
    ),
    inbox(8, megan, 'Draft objectives attached', 'Here are my draft objectives for the quarter.', false),
    {
      id: 'AAMkAGI2-alice-sent-0001',
      parentFolderId: 'sentitems',
      subject: 'Re: Lunch on Friday?',
      bodyPreview: 'Yes, count me in.',
      body: { contentType: 'text', content: 'Yes, count me in.' },
      from: alice,
      toRecipients: [adele],
      receivedDateTime: day(3, 10),
      sentDateTime: day(3, 10),
      isRead: true,
      importance: 'normal',
      hasAttachments: false,
    },
  ];
  return { [`alice@${domain}`]: messages };
}
