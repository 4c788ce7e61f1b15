package io.hintlab.host.device;

/** QEMU's free page hint status (include/hw/virtio/virtio-balloon.h FREE_PAGE_HINT_S_*). */
public enum HintStatus {
  /** No round; config reads VIRTIO_BALLOON_CMD_ID_STOP. */
  S_STOP,
  /** A new id was issued; config reads that id. */
  S_REQUESTED,
  /** The driver started the round with the current id; hints are applied. */
  S_START,
  /** The device no longer needs hinted pages; config reads VIRTIO_BALLOON_CMD_ID_DONE. */
  S_DONE
}
