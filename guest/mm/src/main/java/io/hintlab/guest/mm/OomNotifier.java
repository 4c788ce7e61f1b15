package io.hintlab.guest.mm;

/**
 * An entry of the OOM notifier chain ({@code register_oom_notifier()}, mm/oom_kill.c).
 * {@code out_of_memory()} calls the chain before it would pick a task to kill; when the chain
 * freed pages, the allocation counts that as progress and retries instead. The virtio-balloon
 * driver registers one when VIRTIO_BALLOON_F_DEFLATE_ON_OOM was negotiated ({@code
 * virtio_balloon_oom_notify()}: deflate {@code VIRTIO_BALLOON_OOM_NR_PAGES} pages).
 *
 * <p>Called on the allocating thread with no zone or pcp lock held.
 */
@FunctionalInterface
public interface OomNotifier {
  /**
   * Frees what this entry can give back.
   *
   * @param cpu the cpu of the allocating thread
   * @return pages freed (0 for none)
   */
  long oomNotify(int cpu);
}
