/**
 * One guest's virtio-balloon device, free of gRPC.
 *
 * <ul>
 *   <li>{@link io.hintlab.host.device.BalloonDevice}: features, config space, the queues
 *       (report, hint, inflate/deflate, stats), pause/resume, counters, memory map.
 *   <li>{@link io.hintlab.host.device.FreePageHinting}: QEMU's hinting state machine
 *       (S_STOP/S_REQUESTED/S_START/S_DONE; {@code requestNewCmdId()}, {@code stop()},
 *       {@code done()}, {@code precopyNotify(BEFORE_BITMAP_SYNC|AFTER_BITMAP_SYNC|CLEANUP)}), the
 *       admission of hinted ranges, and the fault-injection relaxations that turn a guard off.
 *   <li>{@link io.hintlab.host.device.HintSink}: where applied hints go; in host mode
 *       {@code migrate} the migration engine ({@code io.hintlab.host.migration}) claims the device
 *       ({@code BalloonDevice.claimMigration()}) and plugs its bitmap in with
 *       {@code BalloonDevice.setMigrationHintSink(sink)}.
 *   <li>{@link io.hintlab.host.device.HostMode}, {@link io.hintlab.host.device.FeatureNegotiation},
 *       {@link io.hintlab.host.device.BalloonException} (the one domain error, with a reason).
 * </ul>
 */
package io.hintlab.host.device;
