package io.hintlab.guest.reporting;

/**
 * A batch was not reported: the device refused it, the call timed out, the host went away or the
 * reporting thread was interrupted while it waited. Whatever the cause, the guest treats the batch
 * as not reported and puts its pages back on the free lists without PageReported (the kernel's
 * {@code page_reporting_drain(prdev, sgl, nents, !err)}).
 */
public final class ReportException extends Exception {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what failed
   */
  public ReportException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and its cause.
   *
   * @param message what failed
   * @param cause the underlying failure (an RPC status, an interrupt)
   */
  public ReportException(String message, Throwable cause) {
    super(message, cause);
  }
}
