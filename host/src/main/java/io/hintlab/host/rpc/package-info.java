/**
 * The gRPC side of the host.
 *
 * <ul>
 *   <li>{@link io.hintlab.host.rpc.HostServer}: start a host on a Unix socket, TCP or in-process
 *       ({@code HostServer.startInProcess(HostConfig.defaults())}), {@code registry()} for the
 *       sessions and their devices, {@code stop()} with bounded joins.
 *   <li>{@link io.hintlab.host.rpc.HostChannel}: a client channel to a {@link
 *       io.hintlab.host.rpc.HostAddress} (default socket: {@code HostAddress.defaultSocket()}).
 *   <li>{@link io.hintlab.host.rpc.SessionRegistry}: sessions by token and id, leases.
 *   <li>{@link io.hintlab.host.rpc.StatusMapper}: the only place mapping domain errors to gRPC.
 *   <li>{@link io.hintlab.host.rpc.HostMetrics} / {@link io.hintlab.host.rpc.MetricsHttpServer}:
 *       Prometheus text on {@code /metrics}.
 * </ul>
 */
package io.hintlab.host.rpc;
