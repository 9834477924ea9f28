package io.rabbitkit.impl;

import io.rabbitkit.ToolkitException.ConnectionException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Locale;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Loads trust and key stores and builds the TLS context; messages name the file, never a password. */
final class Tls {

  private Tls() {
  }

  /**
   * Loads a store: PEM certificates ({@code .pem}, {@code .crt}, {@code .cer}) for trust, otherwise a
   * PKCS#12 or JKS file (the type is detected).
   *
   * @throws IllegalArgumentException naming {@code field} and the file when it cannot be read
   */
  static KeyStore load(String field, Path file, char[] password) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(field + ": cannot read file " + file);
    }
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    try {
      if (name.endsWith(".pem") || name.endsWith(".crt") || name.endsWith(".cer")) {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(file)) {
          int i = 0;
          for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
            store.setCertificateEntry("cert-" + i++, c);
          }
          if (i == 0) {
            throw new IllegalArgumentException(field + ": no certificate in " + file);
          }
        }
        return store;
      }
      return KeyStore.getInstance(file.toFile(), password);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(field + ": cannot load " + file + " (wrong password or not a PEM, PKCS#12 "
          + "or JKS file?): " + e.getMessage(), e);
    }
  }

  /** A context trusting {@code trust} (null: the JVM's default CAs) and presenting the key in {@code keys}, if any. */
  static SSLContext context(KeyStore trust, KeyStore keys, char[] keyPassword) {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (keys != null) {
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, keyPassword);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new ConnectionException(ConnectionException.Reason.TLS, "cannot set up TLS: " + e.getMessage(), e);
    }
  }
}
