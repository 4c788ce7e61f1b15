/**
 * The guest's gRPC client for the device protocol (DESIGN section 5, device.proto): where the
 * host is ({@link io.hintlab.guest.transport.GuestAddress}, {@code unix:PATH} or loopback
 * {@code HOST:PORT}) and a channel to it ({@link io.hintlab.guest.transport.GuestChannel}); the
 * driver side of feature negotiation with the Linux driver's rules ({@link
 * io.hintlab.guest.transport.FeatureNegotiation}, constants in {@link
 * io.hintlab.guest.transport.VirtioBalloon}); the calls of one session ({@link
 * io.hintlab.guest.transport.DeviceClient}: attach, report, hint, inflate, deflate, stats,
 * heartbeat, the config stream, detach); and what happens when the host goes away ({@link
 * io.hintlab.guest.transport.Connector} with a {@link io.hintlab.guest.transport.ReconnectPolicy}).
 *
 * <p>Every call has a deadline ({@link io.hintlab.guest.transport.CallDeadlines}) and every
 * failure is one {@link io.hintlab.guest.transport.TransportException} type whose reason comes
 * from one status mapping. The guest does not depend on the host module: it has its own constants
 * and address parsing.
 */
package io.hintlab.guest.transport;
