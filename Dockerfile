# The tomgraph API. In docker-compose.yml it talks to the neo4j service; configured by environment.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY api ./api
COPY loaders ./loaders
COPY queries ./queries
COPY visualizations ./visualizations
COPY cli ./cli
COPY examples ./examples
RUN pip install --no-cache-dir --no-deps . && useradd --system --home /var/lib/tomgraph tomgraph \
    && mkdir -p /var/lib/tomgraph && chown tomgraph /var/lib/tomgraph
USER tomgraph
EXPOSE 8000
CMD ["tomgraph", "serve"]
