//! A TCP proxy in front of PostgreSQL that a test can cut and restore, so
//! "the database went away" is exercised over real connections without
//! stopping the server other tests use. While cut, its port refuses
//! connections, as a stopped server's would.

use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle, JoinSet};

pub struct Proxy {
    pub port: u16,
    target: SocketAddr,
    acceptor: JoinHandle<()>,
    connections: Vec<AbortHandle>,
    tracker: tokio::sync::mpsc::UnboundedReceiver<AbortHandle>,
    sender: tokio::sync::mpsc::UnboundedSender<AbortHandle>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("local addr").port();
        let (sender, tracker) = tokio::sync::mpsc::unbounded_channel();
        let acceptor = tokio::spawn(accept(listener, target, sender.clone()));
        Self {
            port,
            target,
            acceptor,
            connections: Vec::new(),
            tracker,
            sender,
        }
    }

    /// Closes the listening port and drops every open connection.
    pub async fn cut(&mut self) {
        self.acceptor.abort();
        let _ = (&mut self.acceptor).await;
        while let Ok(handle) = self.tracker.try_recv() {
            self.connections.push(handle);
        }
        for connection in self.connections.drain(..) {
            connection.abort();
        }
    }

    /// Listens on the same port again.
    pub async fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("rebind proxy port");
        self.acceptor = tokio::spawn(accept(listener, self.target, self.sender.clone()));
    }
}

async fn accept(
    listener: TcpListener,
    target: SocketAddr,
    tracker: tokio::sync::mpsc::UnboundedSender<AbortHandle>,
) {
    let mut tasks = JoinSet::new();
    while let Ok((client, _)) = listener.accept().await {
        let _ = tracker.send(tasks.spawn(forward(client, target)));
        while tasks.try_join_next().is_some() {}
    }
}

async fn forward(mut client: TcpStream, target: SocketAddr) {
    if let Ok(mut server) = TcpStream::connect(target).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}
