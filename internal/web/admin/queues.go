package admin

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/augurhq/augur/internal/audit"
	"github.com/augurhq/augur/internal/store"
	"github.com/augurhq/augur/jobs"
)

// queueRow is one queue on the queue panel.
type queueRow struct {
	Name                                   string
	Size, Pending, Active, Retry, Archived int
	// Processed and Failed count today's (UTC) attempts; asynq resets
	// them daily.
	Processed, Failed int
	Latency           string
	Paused            bool
}

// serverRow is one connected worker server.
type serverRow struct {
	ID, Host, Status, Queues string
	PID, Concurrency, Busy   int
	Started                  time.Time
}

// panelQueues are the queues the panel always shows, even before asynq
// has seen a task on one.
var panelQueues = []string{jobs.QueueCritical, jobs.QueueDefault, jobs.QueueLow}

// panelTasks is how many retry and archived tasks of each queue the panel
// lists.
const panelTasks = 50

// adminQueuesPage is the queue panel: asynq's view of every queue, its
// failed tasks and the connected workers.
func (s *Server) adminQueuesPage(c *gin.Context) {
	stats, err := s.Queue.QueueStats(panelQueues)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	data := &adminData{Queues: make([]queueRow, 0, len(stats))}
	for _, q := range stats {
		row := queueRow{Name: q.Queue, Size: q.Size, Pending: q.Pending, Active: q.Active,
			Retry: q.Retry, Archived: q.Archived, Processed: q.Processed, Failed: q.Failed,
			Latency: q.Latency.Round(time.Millisecond).String(), Paused: q.Paused}
		for _, state := range []string{jobs.StateRetry, jobs.StateArchived} {
			tasks, err := s.Queue.FailedTasks(q.Queue, state, panelTasks)
			if err != nil {
				s.FailPage(c, err)
				return
			}
			data.Failed = append(data.Failed, tasks...)
		}
		data.Queues = append(data.Queues, row)
	}
	servers, err := s.Queue.Servers()
	if err != nil {
		s.FailPage(c, err)
		return
	}
	for _, sv := range servers {
		queues := make([]string, 0, len(sv.Queues))
		for name, weight := range sv.Queues {
			queues = append(queues, name+"="+strconv.Itoa(weight))
		}
		slices.Sort(queues)
		data.Servers = append(data.Servers, serverRow{ID: sv.ID, Host: sv.Host, Status: sv.Status, PID: sv.PID,
			Concurrency: sv.Concurrency, Busy: len(sv.ActiveWorkers), Queues: strings.Join(queues, ", "), Started: sv.Started})
	}
	slices.SortFunc(data.Servers, func(a, b serverRow) int { return strings.Compare(a.Host+a.ID, b.Host+b.ID) })
	s.renderAdmin(c, "admin_queues", "Queues · Administration", data)
}

// panelQueue returns the :queue of a panel action when the panel shows
// that queue, and otherwise ErrNotFound: the panel acts on nothing else.
func (s *Server) panelQueue(c *gin.Context) (string, error) {
	name := c.Param("queue")
	stats, err := s.Queue.QueueStats(panelQueues)
	if err != nil {
		return "", err
	}
	for _, q := range stats {
		if q.Queue == name {
			return name, nil
		}
	}
	return "", store.ErrNotFound
}

// adminPauseQueue and adminResumeQueue stop and restart the workers'
// taking of a queue's tasks; tasks keep arriving meanwhile.
func (s *Server) adminPauseQueue(c *gin.Context)  { s.setPaused(c, true) }
func (s *Server) adminResumeQueue(c *gin.Context) { s.setPaused(c, false) }

func (s *Server) setPaused(c *gin.Context, paused bool) {
	name, err := s.panelQueue(c)
	done, action := "The queue "+name+" is resumed.", audit.QueueResume
	if paused {
		done, action = "The queue "+name+" is paused: workers take none of its tasks until it is resumed.", audit.QueuePause
	}
	if err == nil {
		// Who stopped a queue is the first question when work stalls.
		err = s.Audited(c, audit.Event{Action: action, Target: "queue:" + name}, s.Queue.SetPaused(name, paused))
	}
	s.adminDone(c, "/admin/queues", done, err)
}

// adminRunTask moves a retry or archived task to pending, to run again,
// reopening its job if that had failed.
func (s *Server) adminRunTask(c *gin.Context) {
	name, err := s.panelQueue(c)
	if err == nil {
		err = s.Audited(c, audit.Event{Action: audit.QueueRetry, Target: taskTarget(name, c.Param("id"))},
			jobs.RetryTask(c.Request.Context(), s.DB, s.Queue, name, c.Param("id")))
	}
	switch {
	case errors.Is(err, store.ErrJobFinished):
		s.Flash(c, "Not retried: its job has succeeded or was canceled. Delete the task instead.")
		c.Redirect(http.StatusSeeOther, "/admin/queues")
	case errors.Is(err, jobs.ErrBusy):
		s.Flash(c, "Not retried: the reconciler was busy. Try again in a moment.")
		c.Redirect(http.StatusSeeOther, "/admin/queues")
	default:
		s.adminDone(c, "/admin/queues", "The task is pending again, its job queued: a worker will run it next.", err)
	}
}

// adminDeleteTask removes a retry or archived task; a job still waiting
// on it is closed as failed.
func (s *Server) adminDeleteTask(c *gin.Context) {
	name, err := s.panelQueue(c)
	if err == nil {
		err = s.Audited(c, audit.Event{Action: audit.QueueDelete, Target: taskTarget(name, c.Param("id"))},
			jobs.DeleteTask(c.Request.Context(), s.DB, s.Queue, name, c.Param("id")))
	}
	s.adminDone(c, "/admin/queues", "The task is deleted.", err)
}

// adminJobPage shows any user's job to an admin: the queue panel links
// its tasks here. The owner's /jobs/{id} page stays private to the owner,
// whose data it streams; this view shows the job's record and its task.
func (s *Server) adminJobPage(c *gin.Context) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		s.ErrorPage(c, http.StatusNotFound, "No such job", "There is no job at this address.")
		return
	}
	ctx := c.Request.Context()
	job, err := s.DB.Job(ctx, id, 0)
	if errors.Is(err, store.ErrNotFound) {
		s.ErrorPage(c, http.StatusNotFound, "No such job", "There is no job at this address.")
		return
	}
	if err != nil {
		s.FailPage(c, err)
		return
	}
	owner, err := s.DB.UserByID(ctx, job.OwnerID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	data := &adminData{Job: job, Owner: owner, TaskState: "none: asynq holds no task for it"}
	task, err := s.Queue.Task(job.Queue, job.ID)
	switch {
	case err == nil:
		data.TaskState = task.State.String()
	case !errors.Is(err, jobs.ErrNoTask):
		s.FailPage(c, err)
		return
	}
	s.renderAdmin(c, "admin_job", "Job · Administration", data)
}
