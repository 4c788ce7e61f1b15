/**
 * Parsers of the kernel's /proc text files that the allocator model can be built from: {@link
 * io.hintlab.guest.mm.proc.PagetypeinfoParser} (/proc/pagetypeinfo) and {@link
 * io.hintlab.guest.mm.proc.ZoneinfoParser} (/proc/zoneinfo), and the immutable records they
 * return.
 *
 * <p>The parsers do no I/O: they take the text (or its lines) and a source name that prefixes
 * every error message, {@code source:line: what was expected}. They accept the kernel's exact
 * layout, or the same with trailing spaces stripped, and throw {@link IllegalArgumentException}
 * for anything else.
 */
package io.hintlab.guest.mm.proc;
