/**
 * The guest's virtio-balloon driver (drivers/virtio/virtio_balloon.c): {@link
 * io.hintlab.guest.driver.BalloonDriver} follows the balloon target (inflate and deflate queues),
 * migrates balloon pages for compaction, deflates on OOM and sends memory statistics; {@link
 * io.hintlab.guest.driver.DeviceHintSink} is the free page virtqueue a hinting strategy sends
 * through. Free page reporting goes through {@link io.hintlab.guest.transport.DeviceClient}
 * itself.
 */
package io.hintlab.guest.driver;
