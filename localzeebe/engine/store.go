package engine

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// The store is the engine's log: every record, in position order, in one
// bbolt bucket. A batch of records is committed in one transaction before any
// command of the batch is answered, so what a client was told survives a
// kill -9. The engine's state is not stored: it is what replaying the log's
// commands yields.
var bucketLog = []byte("log")

type store struct {
	db *bolt.DB
}

func openStore(dir string, fsync bool) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, "engine.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoSync: !fsync, NoFreelistSync: true,
		InitialMmapSize: 256 << 20, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: another engine holds it: stop that engine or use another data directory", path)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketLog)
		return err
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("initialise %s: %w", path, err)
	}
	return &store{db: db}, nil
}

func posKey(p int64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(p))
	return k[:]
}

// append commits a batch's records in one transaction, as one entry keyed by
// the batch's first position: the log is only ever read in order, and one
// entry a batch keeps bbolt's page writes and tree upkeep per record small.
func (s *store) append(recs []*Record, encoded [][]byte) error {
	if len(recs) == 0 {
		return nil
	}
	n := len(encoded) - 1
	for _, e := range encoded {
		n += len(e)
	}
	v := make([]byte, 0, n)
	for i, e := range encoded {
		if i > 0 {
			v = append(v, '\n')
		}
		v = append(v, e...)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLog)
		// Keys only ever grow: full pages instead of half-empty ones after a split.
		b.FillPercent = 1.0
		return b.Put(posKey(recs[0].Position), v)
	})
}

// each calls fn for every stored record, in order, from the batch holding
// position from on (records before from in that batch included: callers
// skip by position).
func (s *store) each(from int64, fn func(b []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		k, v := c.Seek(posKey(from))
		if k == nil || int64(binary.BigEndian.Uint64(k)) > from {
			// from lies inside the batch before.
			if pk, pv := c.Prev(); pk != nil {
				k, v = pk, pv
			} else {
				k, v = c.First()
			}
		}
		for ; k != nil; k, v = c.Next() {
			for len(v) > 0 {
				line := v
				if i := bytes.IndexByte(v, '\n'); i >= 0 {
					line, v = v[:i], v[i+1:]
				} else {
					v = nil
				}
				if err := fn(line); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (s *store) close() error { return s.db.Close() }

// exporter appends records as JSON lines to the record log.
type exporter struct {
	f *os.File
	w *bufio.Writer
}

func openExporter(path string) (*exporter, int64, error) {
	if path == "" {
		return nil, 0, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, 0, fmt.Errorf("create record log directory: %w", err)
	}
	last, err := lastExportedPosition(path)
	if err != nil {
		return nil, 0, err
	}
	if err := truncatePartialLine(path); err != nil {
		return nil, 0, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, fmt.Errorf("open record log: %w", err)
	}
	return &exporter{f: f, w: bufio.NewWriterSize(f, 1<<16)}, last, nil
}

// lastExportedPosition reads the position of the last complete line of the
// record log, so a restarted engine exports each record exactly once.
func lastExportedPosition(path string) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open record log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	const window = 1 << 20
	off := size - window
	if off < 0 {
		off = 0
	}
	buf := make([]byte, size-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	// A line cut by a crash has no newline; it is ignored and its record exported again.
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[:i]
	} else {
		return 0, nil
	}
	lines := bytes.Split(buf, []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		var p struct {
			Position int64 `json:"position"`
		}
		if len(lines[i]) > 0 && lines[i][0] == '{' && json.Unmarshal(lines[i], &p) == nil && p.Position > 0 {
			return p.Position, nil
		}
	}
	return 0, nil
}

// truncatePartialLine cuts a last line that a crash left without its newline;
// its record is exported again in full.
func truncatePartialLine(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open record log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	size := st.Size()
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for end := size; end > 0; {
		start := end - chunk
		if start < 0 {
			start = 0
		}
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			if start+int64(i)+1 == size {
				return nil
			}
			return f.Truncate(start + int64(i) + 1)
		}
		end = start
	}
	return f.Truncate(0)
}

func (x *exporter) export(encoded [][]byte) error {
	if x == nil {
		return nil
	}
	for _, b := range encoded {
		if _, err := x.w.Write(b); err != nil {
			return err
		}
		if err := x.w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return x.w.Flush()
}

func (x *exporter) close() error {
	if x == nil {
		return nil
	}
	err := x.w.Flush()
	if cerr := x.f.Close(); err == nil {
		err = cerr
	}
	return err
}
