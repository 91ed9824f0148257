import type { Application } from '../directory/model.ts';

/**
 * App registrations a client made for itself: by RFC 7591 dynamic registration or from its client ID
 * metadata document (the MCP front door). No administrator vouched for them, so the tenant's domain,
 * which the directory records as every app's `publisherDomain`, must not be shown as their publisher.
 */
export const DYNAMIC_REGISTRATION_APP_TAG = 'dynamicClientRegistration';
export const CLIENT_METADATA_APP_TAG = 'clientIdMetadataDocument';

export function isSelfRegistered(app: Pick<Application, 'tags'>): boolean {
  return app.tags.includes(DYNAMIC_REGISTRATION_APP_TAG) || app.tags.includes(CLIENT_METADATA_APP_TAG);
}
