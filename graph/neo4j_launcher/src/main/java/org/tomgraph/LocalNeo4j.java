package org.tomgraph;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

/**
 * tomgraph's local Neo4j: Neo4j community started embedded in this JVM, with the Bolt connector
 * configured by the neo4j.conf that tomgraph writes (loopback only, authentication on).
 *
 * <p>Usage: {@code LocalNeo4j HOME_DIR CONF_FILE PASSWORD_FILE}. Prints {@code TOMGRAPH-NEO4J-READY}
 * once the databases are up, and shuts down cleanly on SIGTERM.
 */
public final class LocalNeo4j {
  private LocalNeo4j() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: LocalNeo4j HOME_DIR CONF_FILE PASSWORD_FILE");
      System.exit(64);
    }
    Path home = Path.of(args[0]);
    Path conf = Path.of(args[1]);
    String password = Files.readString(Path.of(args[2]), StandardCharsets.UTF_8).strip();

    DatabaseManagementService dbms =
        new DatabaseManagementServiceBuilder(home).loadPropertiesFromFile(conf).build();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  dbms.shutdown();
                  stopped.countDown();
                },
                "tomgraph-neo4j-shutdown"));

    setPassword(dbms.database("system"), password);
    System.out.println("TOMGRAPH-NEO4J-READY");
    System.out.flush();
    stopped.await();
  }

  /** Embedded transactions run with full rights, so the neo4j user's password can be set here. */
  private static void setPassword(GraphDatabaseService system, String password) {
    try {
      system.executeTransactionally(
          "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
          Map.of("password", password));
    } catch (RuntimeException e) {
      // Raised when the password is already this one: the normal case on every start after the first.
      if (!String.valueOf(e.getMessage()).contains("Old password and new password cannot be the same")) {
        throw e;
      }
    }
  }
}
