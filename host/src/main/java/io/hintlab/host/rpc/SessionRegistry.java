package io.hintlab.host.rpc;

import io.hintlab.host.device.BalloonDevice;
import io.hintlab.host.device.BalloonException;
import io.hintlab.host.device.BalloonException.Reason;
import io.hintlab.host.device.FeatureNegotiation;
import io.hintlab.host.device.HostMode;
import io.hintlab.host.device.VirtioBalloon;
import io.hintlab.host.memory.GuestMemory;
import io.hintlab.host.memory.StateDirs;
import io.hintlab.host.races.RaceLog;
import io.hintlab.proto.v1.AttachRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All sessions of a host: attach (negotiation, memory files, random 128-bit token), lookup by
 * token or id, detach, and the lease reaper that frees the files of guests that went silent.
 *
 * <p><b>Note:</b> thread-safe. Attach and detach synchronize on the registry (they create and
 * delete files); lookups are lock-free.
 */
public final class SessionRegistry implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SessionRegistry.class);
  private static final int MAX_NAME = 128;

  private final HostConfig config;
  private final RaceLog raceLog;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Session> byToken = new ConcurrentHashMap<>();
  private final Map<String, Session> byId = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong(1);
  private final List<Consumer<Session>> onAttach = new CopyOnWriteArrayList<>();
  private final List<Consumer<Session>> onDetach = new CopyOnWriteArrayList<>();
  private volatile HostMode defaultMode;
  private Path hostDir; // guarded by this; created at the first attach

  /** Creates an empty registry. */
  public SessionRegistry(HostConfig config, RaceLog raceLog) {
    this.config = config;
    this.raceLog = raceLog;
    this.defaultMode = config.mode();
  }

  /** Host settings. */
  public HostConfig config() {
    return config;
  }

  /** The race log every device writes to. */
  public RaceLog raceLog() {
    return raceLog;
  }

  /** Mode for guests that attach from now on. */
  public HostMode defaultMode() {
    return defaultMode;
  }

  /** Sets the mode for guests that attach from now on. */
  public void setDefaultMode(HostMode m) {
    defaultMode = m;
  }

  /** Called with each new session. */
  public void addAttachListener(Consumer<Session> l) {
    onAttach.add(l);
  }

  /** Called with each session that ended. */
  public void addDetachListener(Consumer<Session> l) {
    onDetach.add(l);
  }

  /**
   * Validates an Attach, negotiates features, creates the guest's files and opens a session.
   *
   * @throws BalloonException MALFORMED_REQUEST, UNKNOWN_FEATURE, FEATURE_NOT_OFFERED,
   *     TOO_MANY_GUESTS or HOST_FAILURE; nothing is left behind then
   */
  public synchronized Session attach(AttachRequest req) throws BalloonException {
    validate(req);
    HostMode mode = defaultMode;
    long offered = FeatureNegotiation.offered(mode);
    long negotiated = FeatureNegotiation.negotiate(offered, req.getDriverFeatures());
    if (byId.size() >= config.maxGuests()) {
      throw new BalloonException(Reason.TOO_MANY_GUESTS,
          "the host already serves " + config.maxGuests() + " guests");
    }
    String id = "guest-" + nextId.getAndIncrement();
    GuestMemory memory;
    try {
      if (hostDir == null) {
        hostDir = StateDirs.createHostDir(config.stateBase());
      }
      memory = config.memfd()
          ? GuestMemory.createMemfd(hostDir, id, req.getMemoryBytes(), req.getPageSize())
          : GuestMemory.create(hostDir, id, req.getMemoryBytes(), req.getPageSize());
    } catch (IOException e) {
      throw new BalloonException(Reason.HOST_FAILURE,
          "cannot create guest memory: " + e.getMessage(), e);
    }
    int maxOrder = req.getMaxOrder() == 0 ? 10 : req.getMaxOrder();
    BalloonDevice device = new BalloonDevice(id, req.getGuestName(), req.getPid(), memory,
        offered, negotiated, req.getPoisonVal(), maxOrder, mode, raceLog,
        config.deviceOptions());
    byte[] raw = new byte[16];
    random.nextBytes(raw);
    Session s = new Session(HexFormat.of().formatHex(raw), device);
    byToken.put(s.token(), s);
    byId.put(id, s);
    LOG.info("host: {} attached ('{}', pid {}, {} MiB, features 0x{}, mode {})", id,
        req.getGuestName(), req.getPid(), req.getMemoryBytes() >> 20,
        Long.toHexString(negotiated), mode);
    for (Consumer<Session> l : onAttach) {
      l.accept(s);
    }
    return s;
  }

  private void validate(AttachRequest req) throws BalloonException {
    if (req.getGuestName().length() > MAX_NAME) {
      throw new BalloonException(Reason.MALFORMED_REQUEST,
          "guest_name longer than " + MAX_NAME + " characters");
    }
    if (req.getPageSize() != 1 << VirtioBalloon.VIRTIO_BALLOON_PFN_SHIFT) {
      throw new BalloonException(Reason.MALFORMED_REQUEST,
          "page_size must be 4096, was " + Integer.toUnsignedString(req.getPageSize()));
    }
    long bytes = req.getMemoryBytes();
    if (bytes <= 0 || bytes % req.getPageSize() != 0) {
      throw new BalloonException(Reason.MALFORMED_REQUEST,
          "memory_bytes must be a positive multiple of page_size, was "
              + Long.toUnsignedString(bytes));
    }
    if (bytes > config.maxMemoryBytes()) {
      throw new BalloonException(Reason.MALFORMED_REQUEST,
          "memory_bytes " + bytes + " exceeds the host's limit of " + config.maxMemoryBytes());
    }
    if (Integer.toUnsignedLong(req.getMaxOrder()) > VirtioBalloon.MAX_SUPPORTED_ORDER) {
      throw new BalloonException(Reason.MALFORMED_REQUEST,
          "max_order must be <= " + VirtioBalloon.MAX_SUPPORTED_ORDER + ", was "
              + Integer.toUnsignedString(req.getMaxOrder()));
    }
  }

  /**
   * The live session of {@code token}, with its lease renewed.
   *
   * @throws BalloonException UNAUTHENTICATED for a missing, unknown or expired token
   */
  public Session authenticate(String token) throws BalloonException {
    if (token == null || token.isEmpty()) {
      throw new BalloonException(Reason.UNAUTHENTICATED, "missing session_token");
    }
    Session s = byToken.get(token);
    if (s == null || s.isDead()) {
      throw new BalloonException(Reason.UNAUTHENTICATED, "unknown or expired session_token");
    }
    s.touch();
    return s;
  }

  /**
   * The session of guest {@code id}.
   *
   * @throws BalloonException GUEST_NOT_FOUND
   */
  public Session byId(String id) throws BalloonException {
    Session s = byId.get(id);
    if (s == null) {
      throw new BalloonException(Reason.GUEST_NOT_FOUND, "no guest with id '" + id + "'");
    }
    return s;
  }

  /** Live sessions, in attach order. */
  public List<Session> sessions() {
    List<Session> l = new ArrayList<>(byId.values());
    l.sort((a, b) -> Long.compare(a.device().attachedAtNs(), b.device().attachedAtNs()));
    return l;
  }

  /** Ends a session and frees its files. Idempotent. */
  public void detach(Session s, String why) {
    if (!s.kill()) {
      return;
    }
    byToken.remove(s.token());
    byId.remove(s.guestId());
    s.device().close();
    LOG.info("host: {} detached ({})", s.guestId(), why);
    for (Consumer<Session> l : onDetach) {
      l.accept(s);
    }
  }

  /** Detaches every session whose lease ran out; returns how many. */
  public int reapExpired() {
    long now = System.nanoTime();
    long lease = config.lease().toNanos();
    int n = 0;
    for (Session s : byId.values()) {
      if (s.expired(now, lease)) {
        detach(s, "lease of " + config.lease().toMillis() + " ms expired");
        n++;
      }
    }
    return n;
  }

  /** The private directory holding this host's files, or null before the first attach. */
  public synchronized Path hostDir() {
    return hostDir;
  }

  /** Detaches everyone and deletes the host directory. */
  @Override
  public synchronized void close() {
    for (Session s : new ArrayList<>(byId.values())) {
      detach(s, "host shutting down");
    }
    if (hostDir != null) {
      StateDirs.deleteTree(hostDir);
    }
  }
}
