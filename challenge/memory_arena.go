package challenge

import "sort"

// memArena holds the bytes of a shard's records in cells of a few size
// classes, carved from large chunks: the collector sees a handful of
// pointer-free chunks, never one object per record. A cell is named by its
// class and its index in the class; freed cells are reused by the next
// record of their class.
type memArena struct {
	classes [len(memCellSizes)]memClass
	// huge holds, one slice each, the rare blobs too big for a class; they
	// are the only per-record objects the collector sees.
	huge     [][]byte
	hugeFree []uint32
}

type memClass struct {
	chunks [][]byte // each holds memCellsPerChunk(class) cells; the last may hold fewer
	free   []uint32
	next   uint32 // cells handed out so far, free ones included
}

// memChunkBytes is the size a chunk of cells grows to.
const memChunkBytes = 64 << 10

// memCellSizes are the cell sizes: four per power of two, so that a blob
// wastes at most a fifth of its cell. A blob beyond the last is huge.
var memCellSizes = func() [45]uint32 {
	var sizes [45]uint32
	size, step := uint32(16), uint32(4)
	for i := range sizes {
		sizes[i] = size
		size += step
		if size&(size-1) == 0 { // a power of two: the next steps are twice as long
			step *= 2
		}
	}
	return sizes
}()

// memHugeClass is the class of blobs bigger than every cell.
const memHugeClass = uint8(len(memCellSizes))

// memCellClass returns the class of the smallest cell that holds n bytes.
func memCellClass(n int) uint8 {
	return uint8(sort.Search(len(memCellSizes), func(i int) bool { return int(memCellSizes[i]) >= n }))
}

func memCellsPerChunk(class uint8) uint32 {
	return max(1, memChunkBytes/memCellSizes[class])
}

// alloc returns a cell of class for a blob of n bytes (n matters only for
// the huge class).
func (a *memArena) alloc(class uint8, n int) uint32 {
	if class == memHugeClass {
		b := make([]byte, n)
		if k := len(a.hugeFree); k > 0 {
			i := a.hugeFree[k-1]
			a.hugeFree = a.hugeFree[:k-1]
			a.huge[i] = b
			return i
		}
		a.huge = append(a.huge, b)
		return uint32(len(a.huge) - 1)
	}
	c := &a.classes[class]
	if k := len(c.free); k > 0 {
		i := c.free[k-1]
		c.free = c.free[:k-1]
		return i
	}
	i := c.next
	c.next++
	per, size := memCellsPerChunk(class), int(memCellSizes[class])
	if i%per == 0 {
		c.chunks = append(c.chunks, make([]byte, 0, min(int(per), 4)*size))
	}
	last := &c.chunks[len(c.chunks)-1]
	if len(*last)+size > cap(*last) { // grow the last chunk towards its full size
		grown := make([]byte, len(*last), min(int(per)*size, 2*cap(*last)))
		copy(grown, *last)
		*last = grown
	}
	*last = (*last)[:len(*last)+size]
	return i
}

// free gives a cell back, cleared: what a record held (a redirect token,
// say) does not linger in the heap until the cell is reused.
func (a *memArena) free(class uint8, i uint32) {
	if class == memHugeClass {
		a.huge[i] = nil
		a.hugeFree = append(a.hugeFree, i)
		return
	}
	clear(a.bytes(class, i, int(memCellSizes[class])))
	a.classes[class].free = append(a.classes[class].free, i)
}

// bytes returns the cell's bytes, n of them.
func (a *memArena) bytes(class uint8, i uint32, n int) []byte {
	if class == memHugeClass {
		return a.huge[i][:n:n]
	}
	per, size := memCellsPerChunk(class), memCellSizes[class]
	off := (i % per) * size
	return a.classes[class].chunks[i/per][off : off+uint32(n) : off+uint32(n)]
}
