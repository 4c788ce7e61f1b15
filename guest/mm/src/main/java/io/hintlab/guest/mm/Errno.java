package io.hintlab.guest.mm;

/**
 * The kernel error numbers the model's kernel-style calls return (negated, as the kernel does):
 * {@code include/uapi/asm-generic/errno-base.h}.
 */
public final class Errno {
  public static final int ENOENT = 2;
  public static final int EAGAIN = 11;
  public static final int ENOMEM = 12;
  public static final int EBUSY = 16;
  public static final int EINVAL = 22;

  private Errno() {}

  /** "EBUSY" for 16 or -16, as strace prints it. */
  public static String name(int errno) {
    return switch (Math.abs(errno)) {
      case 0 -> "OK";
      case ENOENT -> "ENOENT";
      case EAGAIN -> "EAGAIN";
      case ENOMEM -> "ENOMEM";
      case EBUSY -> "EBUSY";
      case EINVAL -> "EINVAL";
      default -> "E" + Math.abs(errno);
    };
  }
}
