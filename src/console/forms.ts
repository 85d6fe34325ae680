import type Router from '@koa/router';
import type { Context } from 'koa';
import { toAppError } from '../errors.js';
import { renderConsole } from './render.js';

/** The posted form: every field as given (a repeated field as a list). */
export type Form = Record<string, string | string[] | undefined>;

export const formOf = (ctx: Context): Form => (ctx.request.body ?? {}) as Form;

/** One text field of a form ('' when absent). */
export function text(form: Form, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? (value[0] ?? '') : '';
}

/** The checked values of a group of checkboxes. */
export function checked(form: Form, name: string): string[] {
  const value = form[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A single checkbox. */
export const isChecked = (form: Form, name: string): boolean => checked(form, name).length > 0;

/** Lines of a textarea, trimmed, blank ones dropped. */
export const lines = (form: Form, name: string): string[] =>
  text(form, name)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);

/**
 * A whole number field as the API takes it: a number when it reads as one, else the text, so
 * the API's own validation refuses it with its own words; absent when empty.
 */
export function wholeNumber(form: Form, name: string): number | string | undefined {
  const value = text(form, name).trim();
  if (value === '') return undefined;
  return /^-?\d+$/.test(value) ? Number(value) : value;
}

/** What a refused form shows: the API's description, next to the field it is about. */
export interface FormError {
  field: string | null;
  message: string;
}

/**
 * Runs `action`; when the API refuses the input (a 4xx of its own), returns the error for the
 * form instead of throwing, so the page can show it next to its field with the input kept.
 */
export async function attempt<T>(
  action: () => Promise<T>,
): Promise<{ ok: T } | { error: FormError; status: number }> {
  try {
    return { ok: await action() };
  } catch (caught) {
    const error = toAppError(caught);
    if (error.status >= 400 && error.status < 500 && error.status !== 404) {
      return { error: { field: error.field ?? null, message: error.message }, status: error.status };
    }
    throw caught;
  }
}

/** Sends the browser on with a 303 (POST-redirect-GET). */
export function seeOther(ctx: Context, location: string): void {
  ctx.status = 303;
  ctx.redirect(location);
}

/** The `cursor` of a listing page, as list options (none on the first page). */
export function cursorOption(ctx: Context): { cursor?: string } {
  const { cursor } = ctx.query;
  return typeof cursor === 'string' && cursor ? { cursor } : {};
}

/** The "Next page" link of a listing: the same filters with the next cursor; null on the last page. */
export function nextPageLink(
  path: string,
  filters: Record<string, string | undefined>,
  nextCursor: string | null,
): string | null {
  if (!nextCursor) return null;
  const query = Object.entries({ ...filters, cursor: nextCursor }).filter(
    (entry): entry is [string, string] => !!entry[1],
  );
  return `${path}?${new URLSearchParams(query)}`;
}

/** What the typed-name confirmation of a delete shows. */
export interface DeleteConfirmation {
  /** The name that must be typed. */
  name: string;
  title: string;
  action: string;
  back: string;
  label: string;
  button: string;
  consequence: string;
}

/** Shows the confirmation page of a delete. */
export function showDeleteConfirmation(ctx: Context, subject: DeleteConfirmation): void {
  renderConsole(ctx, 'confirm-delete', { ...subject, typed: '', error: null });
}

/**
 * Deletes once the name was typed exactly, then goes to `done`; otherwise shows the page again
 * with what was typed and why it did not act.
 */
export async function confirmDelete(
  ctx: Context,
  subject: DeleteConfirmation,
  remove: () => Promise<void>,
  done: string,
): Promise<void> {
  const typed = text(formOf(ctx), 'confirm');
  if (typed !== subject.name) {
    const error = `The name does not match. Type "${subject.name}" exactly.`;
    return renderConsole(ctx, 'confirm-delete', { ...subject, typed, error }, 400);
  }
  await remove();
  seeOther(ctx, done);
}

/**
 * The typed-name delete of one kind of record: `GET <path>/:id/delete` shows the confirmation,
 * `POST` deletes once the name matches, then goes to `done`.
 */
export function deletionRoutes<T>(
  router: Router,
  path: string,
  options: {
    find: (ctx: Context) => Promise<T>;
    confirmation: (record: T) => DeleteConfirmation;
    remove: (ctx: Context, record: T) => Promise<void>;
    done: string;
  },
): void {
  async function showDeletion(ctx: Context) {
    showDeleteConfirmation(ctx, options.confirmation(await options.find(ctx)));
  }

  async function deleteRecord(ctx: Context) {
    const record = await options.find(ctx);
    await confirmDelete(ctx, options.confirmation(record), () => options.remove(ctx, record), options.done);
  }

  router.get(`${path}/:id/delete`, showDeletion);
  router.post(`${path}/:id/delete`, deleteRecord);
}
